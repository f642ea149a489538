//! `AuthStore`: password hashes (A3, S9), sessions with their expiry and revocation, API tokens,
//! token hash uniqueness, and A1 (a subject or id of another account is never reached).

use conversation_core::ids::{AgentId, ContactId, InboxId};
use conversation_core::ports::{ApiToken, AuthStore, DirectoryStore, Session, SessionSubject};
use uuid::Uuid;

use crate::directory::{code, other_account, saved_agent};
use crate::support::{Fixture, contract, id, t};

fn session(fx: &Fixture, subject: SessionSubject, expires: i64) -> Session {
    Session {
        id: id(),
        account: fx.account,
        subject,
        token_hash: format!("sha256:{}", id()),
        created_at: t(1),
        expires_at: t(expires),
        revoked_at: None,
    }
}

fn api_token(fx: &Fixture, name: &str) -> ApiToken {
    ApiToken {
        id: id(),
        account: fx.account,
        name: name.into(),
        token_hash: format!("sha256:{}", id()),
        created_at: t(2),
        revoked_at: None,
    }
}

contract!(
    a3_s9_password_hashes_are_kept_per_agent_of_the_account,
    |fx: Fixture| async move {
        let agent = saved_agent(&fx, fx.account, "Ann").await.id;
        assert_eq!(
            fx.store.password_hash(fx.account, agent).await.unwrap(),
            None
        );
        fx.store
            .set_password_hash(fx.account, agent, "$argon2id$v=19$first")
            .await
            .unwrap();
        fx.store
            .set_password_hash(fx.account, agent, "$argon2id$v=19$second")
            .await
            .unwrap();
        assert_eq!(
            fx.store
                .password_hash(fx.account, agent)
                .await
                .unwrap()
                .as_deref(),
            Some("$argon2id$v=19$second")
        );
        // A1: another account's agent is absent.
        let other = other_account(&fx).await;
        assert_eq!(fx.store.password_hash(other, agent).await.unwrap(), None);
        assert_eq!(
            code(
                &fx.store
                    .set_password_hash(other, agent, "$argon2id$evil")
                    .await
                    .unwrap_err()
            ),
            "not_found"
        );
        assert_eq!(
            code(
                &fx.store
                    .set_password_hash(fx.account, AgentId::from_uuid(id()), "$argon2id$x")
                    .await
                    .unwrap_err()
            ),
            "not_found"
        );
        assert_eq!(
            fx.store
                .password_hash(fx.account, agent)
                .await
                .unwrap()
                .as_deref(),
            Some("$argon2id$v=19$second")
        );
    }
);

contract!(
    a3_sessions_round_trip_by_token_hash_with_their_expiry,
    |fx: Fixture| async move {
        let agent = saved_agent(&fx, fx.account, "Ann").await.id;
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let agent_session = session(&fx, SessionSubject::Agent { agent }, 3600);
        let visitor_session = session(&fx, SessionSubject::Visitor { contact, inbox }, 7200);
        fx.store.create_session(&agent_session).await.unwrap();
        fx.store.create_session(&visitor_session).await.unwrap();
        assert_eq!(
            fx.store.session(&agent_session.token_hash).await.unwrap(),
            Some(agent_session)
        );
        assert_eq!(
            fx.store.session(&visitor_session.token_hash).await.unwrap(),
            Some(visitor_session)
        );
        assert_eq!(fx.store.session("sha256:unknown").await.unwrap(), None);
    }
);

contract!(s9_a_token_hash_is_used_once, |fx: Fixture| async move {
    let agent = saved_agent(&fx, fx.account, "Ann").await.id;
    let first = session(&fx, SessionSubject::Agent { agent }, 3600);
    fx.store.create_session(&first).await.unwrap();
    let copy = Session {
        id: id(),
        ..first.clone()
    };
    assert_eq!(
        code(&fx.store.create_session(&copy).await.unwrap_err()),
        "conflict"
    );
    let same_id = Session {
        token_hash: format!("sha256:{}", id()),
        ..first.clone()
    };
    assert_eq!(
        code(&fx.store.create_session(&same_id).await.unwrap_err()),
        "conflict"
    );
    assert_eq!(
        fx.store.session(&first.token_hash).await.unwrap(),
        Some(first)
    );

    let token = api_token(&fx, "CRM");
    fx.store.create_api_token(&token).await.unwrap();
    let twin = ApiToken {
        id: id(),
        ..token.clone()
    };
    assert_eq!(
        code(&fx.store.create_api_token(&twin).await.unwrap_err()),
        "conflict"
    );
    assert_eq!(
        fx.store.api_token(&token.token_hash).await.unwrap(),
        Some(token)
    );
});

contract!(
    s9_revoking_an_agents_sessions_revokes_every_live_one_and_nothing_else,
    |fx: Fixture| async move {
        let ann = saved_agent(&fx, fx.account, "Ann").await.id;
        let bob = saved_agent(&fx, fx.account, "Bob").await.id;
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let live = [
            session(&fx, SessionSubject::Agent { agent: ann }, 3600),
            session(&fx, SessionSubject::Agent { agent: ann }, 7200),
        ];
        let expired = session(&fx, SessionSubject::Agent { agent: ann }, 50);
        let revoked = Session {
            revoked_at: Some(t(20)),
            ..session(&fx, SessionSubject::Agent { agent: ann }, 3600)
        };
        let bobs = session(&fx, SessionSubject::Agent { agent: bob }, 3600);
        let visitor = session(&fx, SessionSubject::Visitor { contact, inbox }, 3600);
        for s in live.iter().chain([&expired, &revoked, &bobs, &visitor]) {
            fx.store.create_session(s).await.unwrap();
        }

        // A1: another account cannot revoke them.
        let other = other_account(&fx).await;
        assert_eq!(
            fx.store
                .revoke_agent_sessions(other, ann, t(100))
                .await
                .unwrap(),
            0
        );
        // S9: a password change revokes every live session of the agent.
        assert_eq!(
            fx.store
                .revoke_agent_sessions(fx.account, ann, t(100))
                .await
                .unwrap(),
            2
        );
        for s in &live {
            assert_eq!(
                fx.store.session(&s.token_hash).await.unwrap(),
                Some(Session {
                    revoked_at: Some(t(100)),
                    ..s.clone()
                })
            );
        }
        for untouched in [expired, revoked, bobs, visitor] {
            assert_eq!(
                fx.store.session(&untouched.token_hash).await.unwrap(),
                Some(untouched)
            );
        }
        assert_eq!(
            fx.store
                .revoke_agent_sessions(fx.account, ann, t(200))
                .await
                .unwrap(),
            0
        );
    }
);

contract!(
    a1_s5_a_session_binds_only_subjects_of_its_account,
    |fx: Fixture| async move {
        let other = other_account(&fx).await;
        let their_agent = saved_agent(&fx, other, "Theirs").await.id;
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let their_contact = ContactId::from_uuid(id());
        let refused = [
            SessionSubject::Agent { agent: their_agent },
            SessionSubject::Agent {
                agent: AgentId::from_uuid(id()),
            },
            SessionSubject::Visitor {
                contact: their_contact,
                inbox,
            },
            SessionSubject::Visitor {
                contact,
                inbox: InboxId::from_uuid(id()),
            },
        ];
        for subject in refused {
            let s = session(&fx, subject, 3600);
            assert_eq!(
                code(&fx.store.create_session(&s).await.unwrap_err()),
                "not_found",
                "{subject:?}"
            );
            assert_eq!(fx.store.session(&s.token_hash).await.unwrap(), None);
        }
        // A deleted inbox (C7) takes no new visitor sessions.
        fx.store
            .delete_inbox(fx.account, inbox, t(5))
            .await
            .unwrap();
        let s = session(&fx, SessionSubject::Visitor { contact, inbox }, 3600);
        assert_eq!(
            code(&fx.store.create_session(&s).await.unwrap_err()),
            "not_found"
        );
    }
);

contract!(
    a3_api_tokens_round_trip_and_are_revoked_once,
    |fx: Fixture| async move {
        let token = api_token(&fx, "CRM");
        let kept = api_token(&fx, "Bot flow");
        fx.store.create_api_token(&token).await.unwrap();
        fx.store.create_api_token(&kept).await.unwrap();
        assert_eq!(
            fx.store.api_token(&token.token_hash).await.unwrap(),
            Some(token.clone())
        );
        assert_eq!(fx.store.api_token("sha256:unknown").await.unwrap(), None);

        let other = other_account(&fx).await;
        assert!(
            !fx.store
                .revoke_api_token(other, token.id, t(30))
                .await
                .unwrap()
        );
        assert!(
            fx.store
                .revoke_api_token(fx.account, token.id, t(30))
                .await
                .unwrap()
        );
        assert!(
            !fx.store
                .revoke_api_token(fx.account, token.id, t(40))
                .await
                .unwrap()
        );
        assert!(
            !fx.store
                .revoke_api_token(fx.account, Uuid::from_u128(9), t(40))
                .await
                .unwrap()
        );
        assert_eq!(
            fx.store.api_token(&token.token_hash).await.unwrap(),
            Some(ApiToken {
                revoked_at: Some(t(30)),
                ..token
            })
        );
        assert_eq!(
            fx.store.api_token(&kept.token_hash).await.unwrap(),
            Some(kept)
        );

        // An API token of an account that does not exist.
        let orphan = ApiToken {
            account: conversation_core::ids::AccountId::from_uuid(id()),
            ..api_token(&fx, "Orphan")
        };
        assert_eq!(
            code(&fx.store.create_api_token(&orphan).await.unwrap_err()),
            "not_found"
        );
    }
);
