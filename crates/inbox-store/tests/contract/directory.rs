//! `DirectoryStore`: round trips of every entity, A1 isolation (another account's ids are
//! absent and cannot be overwritten), email uniqueness, identity conflicts (K2), setting lists
//! with archive as an update (D10), tasks (N2) and orders (C10).

use std::collections::{BTreeMap, BTreeSet};

use conversation_core::actor::{Actor, Permission, Role};
use conversation_core::channel::ChannelKind;
use conversation_core::entities::{
    Account, Agent, Availability, ChannelIdentity, Contact, DeliveryMode, Inbox, InboxSettings,
    NewOrder, Order, OrderLine, OrderOrigin, Queue, ReplyWindowSetting, RoutingStrategy,
    SettingEntry, Task, TaskSource,
};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, OrderId, QueueId, TaskId,
};
use conversation_core::ports::{
    AggregateChange, AggregateState, AuthStore, Commit, CommitStore, DirectoryStore,
    ExpectedVersion, SettingKind, StoreError,
};
use conversation_core::presence::AgentPresence;

use crate::support::{Fixture, contract, exec, id, t};

/// The error's domain code, or a description of a storage error.
pub fn code(error: &StoreError) -> String {
    match error {
        StoreError::Domain(e) => e.code().to_owned(),
        other => format!("{other:?}"),
    }
}

/// Another account in the same database (A1).
pub async fn other_account(fx: &Fixture) -> AccountId {
    let account = AccountId::from_uuid(id());
    fx.store
        .create_account(&Account {
            id: account,
            name: "Other company".into(),
            created_at: t(0),
        })
        .await
        .unwrap();
    account
}

/// A new agent's profile (offline, as a new agent starts), with a unique email.
pub fn agent_value(account: AccountId, name: &str) -> Agent {
    Agent {
        id: AgentId::from_uuid(id()),
        account,
        name: name.into(),
        email: format!("{}@example.test", id()),
        role: Role::Agent,
        full_access: false,
        permissions: BTreeSet::new(),
        availability: Availability::Offline,
        capacity: 5,
        experience_level: 2,
        cost_tier: 1,
    }
}

/// Saves a new agent's profile.
pub async fn saved_agent(fx: &Fixture, account: AccountId, name: &str) -> Agent {
    let agent = agent_value(account, name);
    fx.store.save_agent(&agent).await.unwrap();
    agent
}

fn queue_value(account: AccountId, name: &str, members: Vec<AgentId>) -> Queue {
    Queue {
        id: QueueId::from_uuid(id()),
        account,
        name: name.into(),
        strategy: RoutingStrategy::CheapestFirst,
        delivery: DeliveryMode::Offer,
        offer_timeout_secs: 45,
        members,
    }
}

fn inbox_value(account: AccountId, name: &str, queue: Option<QueueId>) -> Inbox {
    Inbox {
        id: InboxId::from_uuid(id()),
        account,
        name: name.into(),
        channel: ChannelKind::Whatsapp,
        queue,
        settings: InboxSettings {
            reply_window: ReplyWindowSetting::Custom(3600),
            text_limit: 500,
            wrap_up_mandatory: true,
            reply_time_target_secs: Some(300),
            ..InboxSettings::default()
        },
    }
}

fn contact_value(account: AccountId, identities: Vec<ChannelIdentity>) -> Contact {
    Contact {
        id: ContactId::from_uuid(id()),
        account,
        name: Some("Amira".into()),
        email: Some("amira@example.test".into()),
        phone: Some("+36 1 234 5678".into()),
        location: Some("Budapest".into()),
        notes: "Prefers email".into(),
        attributes: BTreeMap::from([("plan".to_owned(), "gold".to_owned())]),
        responsible_agent: None,
        identities,
        merged_into: None,
        created_at: t(3),
    }
}

fn identity(inbox: InboxId, external_id: &str) -> ChannelIdentity {
    ChannelIdentity {
        inbox,
        external_id: external_id.into(),
    }
}

contract!(
    a1_accounts_round_trip_and_an_id_used_twice_is_a_conflict,
    |fx: Fixture| async move {
        let account = Account {
            id: AccountId::from_uuid(id()),
            name: "Acme".into(),
            created_at: t(7),
        };
        fx.store.create_account(&account).await.unwrap();
        assert_eq!(
            fx.store.account(account.id).await.unwrap(),
            Some(account.clone())
        );
        let err = fx.store.create_account(&account).await.unwrap_err();
        assert_eq!(code(&err), "conflict");
        assert_eq!(
            fx.store.account(AccountId::from_uuid(id())).await.unwrap(),
            None
        );
    }
);

contract!(
    a2_agents_round_trip_and_list_by_name,
    |fx: Fixture| async move {
        let mut zed = agent_value(fx.account, "Zed");
        zed.role = Role::Admin;
        zed.full_access = true;
        zed.permissions = BTreeSet::from([
            Permission::EditDialogSettings,
            Permission::AssignConversations,
        ]);
        zed.capacity = 3;
        zed.experience_level = 9;
        zed.cost_tier = 4;
        fx.store.save_agent(&zed).await.unwrap();
        let ann = saved_agent(&fx, fx.account, "Ann").await;
        assert_eq!(
            fx.store.agent(fx.account, zed.id).await.unwrap(),
            Some(zed.clone())
        );
        assert_eq!(fx.store.agents(fx.account).await.unwrap(), [ann, zed]);
        assert_eq!(
            fx.store
                .agent(fx.account, AgentId::from_uuid(id()))
                .await
                .unwrap(),
            None
        );
    }
);

contract!(
    r1_saving_a_profile_never_touches_availability_load_or_password,
    |fx: Fixture| async move {
        let mut agent = saved_agent(&fx, fx.account, "Ann").await;
        // A new agent starts offline with no load.
        assert_eq!(fx.load_of(agent.id).await, 0);
        // Availability changes through commits; reads return it.
        let mut commit = Commit::new(fx.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::New,
            state: AggregateState::Agent(AgentPresence {
                agent: agent.id,
                availability: Availability::Available,
                since: t(3),
            }),
            events: Vec::new(),
        });
        fx.store.commit(commit).await.unwrap();
        fx.store
            .set_password_hash(fx.account, agent.id, "$argon2id$hash")
            .await
            .unwrap();
        exec(
            fx.store.db(),
            "UPDATE agents SET load = 2 WHERE id = $1",
            vec![agent.id.into()],
        )
        .await;

        agent.name = "Ann B.".into();
        agent.capacity = 7;
        agent.availability = Availability::Busy; // ignored by save_agent
        fx.store.save_agent(&agent).await.unwrap();

        let stored = fx.store.agent(fx.account, agent.id).await.unwrap().unwrap();
        assert_eq!(
            stored,
            Agent {
                availability: Availability::Available,
                ..agent.clone()
            }
        );
        assert_eq!(fx.store.agents(fx.account).await.unwrap(), [stored]);
        assert_eq!(fx.load_of(agent.id).await, 2);
        assert_eq!(
            fx.store
                .password_hash(fx.account, agent.id)
                .await
                .unwrap()
                .as_deref(),
            Some("$argon2id$hash")
        );
    }
);

contract!(
    a3_agent_emails_are_unique_and_found_case_insensitively,
    |fx: Fixture| async move {
        let key = id();
        let mut ann = agent_value(fx.account, "Ann");
        ann.email = format!("Ann.{key}@Example.TEST");
        fx.store.save_agent(&ann).await.unwrap();
        for typed in [
            format!("ann.{key}@example.test"),
            format!("ANN.{key}@EXAMPLE.TEST"),
            format!(" Ann.{key}@Example.TEST "),
        ] {
            assert_eq!(
                fx.store.agent_by_email(&typed).await.unwrap().as_ref(),
                Some(&ann),
                "{typed}"
            );
        }
        assert_eq!(
            fx.store
                .agent_by_email(&format!("bob.{key}@example.test"))
                .await
                .unwrap(),
            None
        );

        // Another agent with the same email in another case: refused, in any account.
        let mut copy = agent_value(fx.account, "Copy");
        copy.email = format!("ann.{key}@example.test");
        assert_eq!(
            code(&fx.store.save_agent(&copy).await.unwrap_err()),
            "conflict"
        );
        let other = other_account(&fx).await;
        let mut elsewhere = agent_value(other, "Elsewhere");
        elsewhere.email = format!("ANN.{key}@example.test");
        assert_eq!(
            code(&fx.store.save_agent(&elsewhere).await.unwrap_err()),
            "conflict"
        );
        assert_eq!(fx.store.agent(fx.account, copy.id).await.unwrap(), None);

        // The agent may change the case of their own email.
        ann.email = format!("ann.{key}@example.test");
        fx.store.save_agent(&ann).await.unwrap();
        assert_eq!(
            fx.store
                .agent_by_email(&format!("Ann.{key}@Example.TEST"))
                .await
                .unwrap(),
            Some(ann)
        );
    }
);

contract!(
    a1_another_accounts_agents_are_absent_and_cannot_be_overwritten,
    |fx: Fixture| async move {
        let other = other_account(&fx).await;
        let theirs = saved_agent(&fx, other, "Theirs").await;
        let ours = saved_agent(&fx, fx.account, "Ours").await;
        assert_eq!(fx.store.agent(fx.account, theirs.id).await.unwrap(), None);
        assert_eq!(fx.store.agents(fx.account).await.unwrap(), [ours]);
        // Saving their id under our account is refused as if it did not exist.
        let hijack = Agent {
            account: fx.account,
            name: "Hijacked".into(),
            ..theirs.clone()
        };
        assert_eq!(
            code(&fx.store.save_agent(&hijack).await.unwrap_err()),
            "not_found"
        );
        assert_eq!(
            fx.store.agent(other, theirs.id).await.unwrap(),
            Some(theirs)
        );
        // An agent of an account that does not exist.
        let orphan = agent_value(AccountId::from_uuid(id()), "Orphan");
        assert_eq!(
            code(&fx.store.save_agent(&orphan).await.unwrap_err()),
            "not_found"
        );
    }
);

contract!(
    r3_queues_round_trip_with_members_in_order_and_members_are_replaced,
    |fx: Fixture| async move {
        let (a, b) = (
            saved_agent(&fx, fx.account, "A").await.id,
            saved_agent(&fx, fx.account, "B").await.id,
        );
        let mut support = queue_value(fx.account, "Support", vec![b, a]);
        let billing = queue_value(fx.account, "Billing", vec![a]);
        fx.store.save_queue(&support).await.unwrap();
        fx.store.save_queue(&billing).await.unwrap();
        assert_eq!(
            fx.store.queue(fx.account, support.id).await.unwrap(),
            Some(support.clone())
        );
        assert_eq!(
            fx.store.queues(fx.account).await.unwrap(),
            [billing.clone(), support.clone()]
        );
        assert_eq!(
            fx.store.queues_of_agent(fx.account, a).await.unwrap(),
            [billing.id, support.id]
        );

        support.members = vec![a];
        support.strategy = RoutingStrategy::RoundRobin;
        support.delivery = DeliveryMode::Direct;
        fx.store.save_queue(&support).await.unwrap();
        assert_eq!(
            fx.store.queue(fx.account, support.id).await.unwrap(),
            Some(support.clone())
        );
        assert_eq!(fx.store.queues_of_agent(fx.account, b).await.unwrap(), []);
        assert_eq!(
            fx.store
                .queue(fx.account, QueueId::from_uuid(id()))
                .await
                .unwrap(),
            None
        );
    }
);

contract!(
    a1_queue_members_must_be_agents_of_the_account,
    |fx: Fixture| async move {
        let ours = saved_agent(&fx, fx.account, "Ours").await.id;
        let other = other_account(&fx).await;
        let theirs = saved_agent(&fx, other, "Theirs").await.id;
        let mut queue = queue_value(fx.account, "Support", vec![ours]);
        fx.store.save_queue(&queue).await.unwrap();

        // One bad member refuses the whole save, in one transaction: nothing changes.
        queue.members = vec![ours, theirs];
        queue.name = "Renamed".into();
        assert_eq!(
            code(&fx.store.save_queue(&queue).await.unwrap_err()),
            "not_found"
        );
        let stored = fx.store.queue(fx.account, queue.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.name.as_str(), stored.members),
            ("Support", vec![ours])
        );

        let fresh = queue_value(fx.account, "Fresh", vec![AgentId::from_uuid(id())]);
        assert_eq!(
            code(&fx.store.save_queue(&fresh).await.unwrap_err()),
            "not_found"
        );
        assert_eq!(fx.store.queue(fx.account, fresh.id).await.unwrap(), None);

        // Another account's queue is absent and cannot be overwritten.
        let their_queue = queue_value(other, "Theirs", vec![theirs]);
        fx.store.save_queue(&their_queue).await.unwrap();
        assert_eq!(
            fx.store.queue(fx.account, their_queue.id).await.unwrap(),
            None
        );
        assert_eq!(
            fx.store.queues(fx.account).await.unwrap(),
            [stored_queue(&fx, queue.id).await]
        );
        assert_eq!(
            fx.store.queues_of_agent(fx.account, theirs).await.unwrap(),
            []
        );
        let hijack = Queue {
            account: fx.account,
            members: vec![ours],
            ..their_queue.clone()
        };
        assert_eq!(
            code(&fx.store.save_queue(&hijack).await.unwrap_err()),
            "not_found"
        );
        assert!(
            !fx.store
                .delete_queue(fx.account, their_queue.id)
                .await
                .unwrap()
        );
        assert_eq!(
            fx.store.queue(other, their_queue.id).await.unwrap(),
            Some(their_queue)
        );
    }
);

async fn stored_queue(fx: &Fixture, queue: QueueId) -> Queue {
    fx.store.queue(fx.account, queue).await.unwrap().unwrap()
}

contract!(
    c7_deleting_a_queue_removes_it_its_memberships_and_inbox_routing,
    |fx: Fixture| async move {
        let a = saved_agent(&fx, fx.account, "A").await.id;
        let queue = queue_value(fx.account, "Support", vec![a]);
        fx.store.save_queue(&queue).await.unwrap();
        let inbox = inbox_value(fx.account, "WhatsApp", Some(queue.id));
        fx.store.save_inbox(&inbox).await.unwrap();

        assert!(fx.store.delete_queue(fx.account, queue.id).await.unwrap());
        assert_eq!(fx.store.queue(fx.account, queue.id).await.unwrap(), None);
        assert_eq!(fx.store.queues(fx.account).await.unwrap(), []);
        assert_eq!(fx.store.queues_of_agent(fx.account, a).await.unwrap(), []);
        assert_eq!(
            fx.store.inbox(fx.account, inbox.id).await.unwrap(),
            Some(Inbox {
                queue: None,
                ..inbox
            })
        );
        assert!(!fx.store.delete_queue(fx.account, queue.id).await.unwrap());
    }
);

contract!(
    h1_inboxes_round_trip_with_settings_and_list_by_name,
    |fx: Fixture| async move {
        let queue = queue_value(fx.account, "Support", vec![]);
        fx.store.save_queue(&queue).await.unwrap();
        let mut whatsapp = inbox_value(fx.account, "WhatsApp", Some(queue.id));
        let mut email = inbox_value(fx.account, "Email", None);
        email.channel = ChannelKind::Email;
        email.settings = InboxSettings::default();
        fx.store.save_inbox(&whatsapp).await.unwrap();
        fx.store.save_inbox(&email).await.unwrap();
        assert_eq!(
            fx.store.inbox(fx.account, whatsapp.id).await.unwrap(),
            Some(whatsapp.clone())
        );
        assert_eq!(
            fx.store.inboxes(fx.account).await.unwrap(),
            [email.clone(), whatsapp.clone()]
        );

        whatsapp.settings.keep_assignments_when_offline = true;
        whatsapp.queue = None;
        whatsapp.name = "WhatsApp Sales".into();
        fx.store.save_inbox(&whatsapp).await.unwrap();
        assert_eq!(
            fx.store.inbox(fx.account, whatsapp.id).await.unwrap(),
            Some(whatsapp)
        );

        // Its queue must be a queue of the account.
        let other = other_account(&fx).await;
        let their_queue = queue_value(other, "Theirs", vec![]);
        fx.store.save_queue(&their_queue).await.unwrap();
        for queue in [their_queue.id, QueueId::from_uuid(id())] {
            let bad = inbox_value(fx.account, "Bad", Some(queue));
            assert_eq!(
                code(&fx.store.save_inbox(&bad).await.unwrap_err()),
                "not_found"
            );
            assert_eq!(fx.store.inbox(fx.account, bad.id).await.unwrap(), None);
        }
    }
);

contract!(
    c7_a_deleted_inbox_is_marked_and_no_longer_returned,
    |fx: Fixture| async move {
        let inbox = inbox_value(fx.account, "Web", None);
        let kept = inbox_value(fx.account, "Kept", None);
        fx.store.save_inbox(&inbox).await.unwrap();
        fx.store.save_inbox(&kept).await.unwrap();

        assert!(
            fx.store
                .delete_inbox(fx.account, inbox.id, t(50))
                .await
                .unwrap()
        );
        assert_eq!(fx.store.inbox(fx.account, inbox.id).await.unwrap(), None);
        assert_eq!(fx.store.inboxes(fx.account).await.unwrap(), [kept]);
        // Nothing stored is deleted: the row stays, marked.
        let row = fx
            .store
            .db()
            .fetch_optional(
                "SELECT deleted_at FROM inboxes WHERE id = $1",
                &[inbox.id.into()],
            )
            .await
            .unwrap()
            .expect("the row is kept");
        assert_eq!(row.opt_time("deleted_at").unwrap(), Some(t(50)));
        // Deleting again, or saving it again, finds nothing.
        assert!(
            !fx.store
                .delete_inbox(fx.account, inbox.id, t(60))
                .await
                .unwrap()
        );
        assert_eq!(
            code(&fx.store.save_inbox(&inbox).await.unwrap_err()),
            "not_found"
        );
        assert_eq!(fx.store.inbox(fx.account, inbox.id).await.unwrap(), None);
    }
);

contract!(
    w3_the_widget_finds_an_inbox_by_its_id_alone_until_it_is_deleted,
    |fx: Fixture| async move {
        let other = other_account(&fx).await;
        let mut theirs = inbox_value(other, "Theirs", None);
        theirs.settings.widget.allowed_origins = vec!["https://shop.example".into()];
        theirs.settings.widget.secret = Some("secret".into());
        fx.store.save_inbox(&theirs).await.unwrap();
        assert_eq!(
            fx.store.inbox_by_id(theirs.id).await.unwrap().as_ref(),
            Some(&theirs),
            "with its account and widget settings"
        );
        assert_eq!(
            fx.store
                .inbox_by_id(InboxId::from_uuid(id()))
                .await
                .unwrap(),
            None
        );
        fx.store
            .delete_inbox(other, theirs.id, t(10))
            .await
            .unwrap();
        assert_eq!(fx.store.inbox_by_id(theirs.id).await.unwrap(), None);
    }
);

contract!(
    a1_another_accounts_inboxes_are_absent_and_cannot_be_deleted,
    |fx: Fixture| async move {
        let other = other_account(&fx).await;
        let theirs = inbox_value(other, "Theirs", None);
        fx.store.save_inbox(&theirs).await.unwrap();
        assert_eq!(fx.store.inbox(fx.account, theirs.id).await.unwrap(), None);
        assert_eq!(fx.store.inboxes(fx.account).await.unwrap(), []);
        assert!(
            !fx.store
                .delete_inbox(fx.account, theirs.id, t(9))
                .await
                .unwrap()
        );
        let hijack = Inbox {
            account: fx.account,
            ..theirs.clone()
        };
        assert_eq!(
            code(&fx.store.save_inbox(&hijack).await.unwrap_err()),
            "not_found"
        );
        assert_eq!(
            fx.store.inbox(other, theirs.id).await.unwrap(),
            Some(theirs)
        );
    }
);

contract!(
    k1_k2_k3_contacts_round_trip_and_are_found_by_identity,
    |fx: Fixture| async move {
        let (web, whatsapp) = (fx.inbox(None).await, fx.inbox(None).await);
        let manager = saved_agent(&fx, fx.account, "Manager").await.id;
        let mut contact = contact_value(
            fx.account,
            vec![
                identity(web, "visitor-1"),
                identity(whatsapp, "+3612345678"),
            ],
        );
        contact.responsible_agent = Some(manager);
        fx.store.save_contact(&contact).await.unwrap();
        assert_eq!(
            fx.store.contact(fx.account, contact.id).await.unwrap(),
            Some(contact.clone())
        );
        // K2: reachable on both inboxes.
        for (inbox, external_id) in [(web, "visitor-1"), (whatsapp, "+3612345678")] {
            assert_eq!(
                fx.store
                    .contact_by_identity(fx.account, inbox, external_id)
                    .await
                    .unwrap()
                    .as_ref(),
                Some(&contact)
            );
        }
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, web, "+3612345678")
                .await
                .unwrap(),
            None
        );

        // Identities are replaced as a whole.
        contact.identities = vec![identity(whatsapp, "+3612345678")];
        contact.notes = "Called twice".into();
        fx.store.save_contact(&contact).await.unwrap();
        assert_eq!(
            fx.store.contact(fx.account, contact.id).await.unwrap(),
            Some(contact.clone())
        );
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, web, "visitor-1")
                .await
                .unwrap(),
            None
        );
        // The freed identity can go to another contact.
        let visitor = contact_value(fx.account, vec![identity(web, "visitor-1")]);
        fx.store.save_contact(&visitor).await.unwrap();
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, web, "visitor-1")
                .await
                .unwrap(),
            Some(visitor)
        );
        assert_eq!(
            fx.store
                .contact(fx.account, ContactId::from_uuid(id()))
                .await
                .unwrap(),
            None
        );
    }
);

contract!(
    k2_an_identity_of_another_contact_is_a_conflict,
    |fx: Fixture| async move {
        let web = fx.inbox(None).await;
        let first = contact_value(fx.account, vec![identity(web, "visitor-1")]);
        fx.store.save_contact(&first).await.unwrap();

        let second = contact_value(
            fx.account,
            vec![identity(web, "visitor-2"), identity(web, "visitor-1")],
        );
        assert_eq!(
            code(&fx.store.save_contact(&second).await.unwrap_err()),
            "conflict"
        );
        // Nothing of the refused save is stored.
        assert_eq!(fx.store.contact(fx.account, second.id).await.unwrap(), None);
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, web, "visitor-2")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, web, "visitor-1")
                .await
                .unwrap(),
            Some(first.clone())
        );

        // Also when an existing contact is updated: it keeps what it had.
        let mut third = contact_value(fx.account, vec![identity(web, "visitor-3")]);
        fx.store.save_contact(&third).await.unwrap();
        let before = third.clone();
        third.identities.push(identity(web, "visitor-1"));
        third.notes = "changed".into();
        assert_eq!(
            code(&fx.store.save_contact(&third).await.unwrap_err()),
            "conflict"
        );
        assert_eq!(
            fx.store.contact(fx.account, third.id).await.unwrap(),
            Some(before.clone())
        );
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, web, "visitor-3")
                .await
                .unwrap(),
            Some(before)
        );
    }
);

contract!(
    a1_contacts_are_scoped_to_their_account,
    |fx: Fixture| async move {
        let other = other_account(&fx).await;
        let their_inbox = inbox_value(other, "Theirs", None);
        fx.store.save_inbox(&their_inbox).await.unwrap();
        let theirs = contact_value(other, vec![identity(their_inbox.id, "visitor-1")]);
        fx.store.save_contact(&theirs).await.unwrap();
        assert_eq!(fx.store.contact(fx.account, theirs.id).await.unwrap(), None);
        assert_eq!(
            fx.store
                .contact_by_identity(fx.account, their_inbox.id, "visitor-1")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            fx.store
                .contact_by_identity(other, their_inbox.id, "visitor-1")
                .await
                .unwrap(),
            Some(theirs.clone())
        );

        // Our contact may not name their inbox, their agent or their contact.
        let their_agent = saved_agent(&fx, other, "Theirs").await.id;
        let squat = contact_value(fx.account, vec![identity(their_inbox.id, "visitor-2")]);
        let mut managed = contact_value(fx.account, vec![]);
        managed.responsible_agent = Some(their_agent);
        let mut merged = contact_value(fx.account, vec![]);
        merged.merged_into = Some(theirs.id);
        let hijack = Contact {
            account: fx.account,
            identities: vec![],
            ..theirs.clone()
        };
        for contact in [squat, managed, merged, hijack] {
            assert_eq!(
                code(&fx.store.save_contact(&contact).await.unwrap_err()),
                "not_found"
            );
        }
        assert_eq!(
            fx.store.contact(other, theirs.id).await.unwrap(),
            Some(theirs)
        );
    }
);

contract!(
    d10_setting_lists_by_kind_and_name_and_archiving_is_an_update,
    |fx: Fixture| async move {
        let late = SettingEntry::new(id(), "Late delivery").unwrap();
        let broken = SettingEntry::new(id(), "Broken item").unwrap();
        let support = SettingEntry::new(id(), "Support").unwrap();
        let resolved = SettingEntry::new(id(), "Solved").unwrap();
        for (kind, entry) in [
            (SettingKind::Reason, &late),
            (SettingKind::Reason, &broken),
            (SettingKind::RequestType, &support),
            (SettingKind::WrapUpReason, &resolved),
        ] {
            fx.store
                .save_setting(fx.account, kind, entry)
                .await
                .unwrap();
        }
        assert_eq!(
            fx.store
                .settings(fx.account, SettingKind::Reason)
                .await
                .unwrap(),
            [broken.clone(), late.clone()]
        );
        assert_eq!(
            fx.store
                .settings(fx.account, SettingKind::RequestType)
                .await
                .unwrap(),
            [support]
        );
        assert_eq!(
            fx.store
                .settings(fx.account, SettingKind::Component)
                .await
                .unwrap(),
            []
        );

        // D10: removing archives; the entry stays in the list, marked.
        let archived = SettingEntry {
            archived_at: Some(t(30)),
            ..late.clone()
        };
        fx.store
            .save_setting(fx.account, SettingKind::Reason, &archived)
            .await
            .unwrap();
        assert_eq!(
            fx.store
                .settings(fx.account, SettingKind::Reason)
                .await
                .unwrap(),
            [broken.clone(), archived]
        );

        // A1: another account sees none of them and cannot overwrite them.
        let other = other_account(&fx).await;
        assert_eq!(
            fx.store.settings(other, SettingKind::Reason).await.unwrap(),
            []
        );
        assert_eq!(
            code(
                &fx.store
                    .save_setting(other, SettingKind::Reason, &broken)
                    .await
                    .unwrap_err()
            ),
            "not_found"
        );
        // Nor can an entry change its list.
        assert_eq!(
            code(
                &fx.store
                    .save_setting(fx.account, SettingKind::Component, &broken)
                    .await
                    .unwrap_err()
            ),
            "not_found"
        );
        assert_eq!(
            fx.store
                .settings(fx.account, SettingKind::Reason)
                .await
                .unwrap()[0],
            broken
        );
    }
);

fn task(fx: &Fixture, agent: AgentId, title: &str, due: i64) -> Task {
    Task {
        id: TaskId::from_uuid(id()),
        account: fx.account,
        agent,
        title: title.into(),
        source: TaskSource::Dialog {
            dialog: DialogId::from_uuid(id()),
        },
        due_at: t(due),
        created_at: t(1),
        done_at: None,
    }
}

contract!(n2_an_agents_tasks_by_due_time, |fx: Fixture| async move {
    let (a, b) = (fx.agent(5).await, fx.agent(5).await);
    let later = task(&fx, a, "Refund", 300);
    let sooner = task(&fx, a, "Call back", 60);
    let mut returning = task(&fx, a, "Contact wrote again", 120);
    returning.source = TaskSource::ReturningContact {
        contact: ContactId::from_uuid(id()),
        conversation: ConversationId::from_uuid(id()),
    };
    let not_mine = task(&fx, b, "Other", 10);
    let mut commit = Commit::new(fx.account);
    commit.tasks = vec![
        later.clone(),
        sooner.clone(),
        not_mine.clone(),
        returning.clone(),
    ];
    fx.store.commit(commit).await.unwrap();
    assert_eq!(
        fx.store.tasks(fx.account, a).await.unwrap(),
        [sooner, returning, later]
    );
    assert_eq!(fx.store.tasks(fx.account, b).await.unwrap(), [not_mine]);
    let other = other_account(&fx).await;
    assert_eq!(fx.store.tasks(other, a).await.unwrap(), []);
});

contract!(
    n2_a_task_is_read_and_updated_only_by_its_account_and_agent,
    |fx: Fixture| async move {
        let (a, b) = (fx.agent(5).await, fx.agent(5).await);
        let mut first = task(&fx, a, "Call back", 60);
        let second = task(&fx, a, "Refund", 30);
        let mut commit = Commit::new(fx.account);
        commit.tasks = vec![first.clone(), second.clone()];
        fx.store.commit(commit).await.unwrap();
        assert_eq!(
            fx.store.task(fx.account, first.id).await.unwrap(),
            Some(first.clone())
        );
        // Done, and moved later: the list follows the new due time.
        first.done_at = Some(t(70));
        first.due_at = t(10);
        fx.store.update_task(&first).await.unwrap();
        assert_eq!(
            fx.store.tasks(fx.account, a).await.unwrap(),
            [first.clone(), second]
        );
        // A1: another account reads nothing and changes nothing; nor does another agent.
        let other = other_account(&fx).await;
        assert_eq!(fx.store.task(other, first.id).await.unwrap(), None);
        for wrong in [
            Task {
                account: other,
                ..first.clone()
            },
            Task {
                agent: b,
                ..first.clone()
            },
        ] {
            let mut wrong = wrong;
            wrong.done_at = None;
            assert_eq!(
                code(&fx.store.update_task(&wrong).await.unwrap_err()),
                "not_found"
            );
        }
        assert_eq!(
            fx.store.task(fx.account, first.id).await.unwrap(),
            Some(first)
        );
    }
);

contract!(
    m6_a_contacts_last_seen_time_only_moves_forward,
    |fx: Fixture| async move {
        let contact = fx.contact().await;
        assert_eq!(
            fx.store
                .contact_last_seen(fx.account, contact)
                .await
                .unwrap(),
            None
        );
        fx.store
            .mark_contact_seen(fx.account, contact, t(50))
            .await
            .unwrap();
        // A late, older report does not move it back.
        fx.store
            .mark_contact_seen(fx.account, contact, t(20))
            .await
            .unwrap();
        assert_eq!(
            fx.store
                .contact_last_seen(fx.account, contact)
                .await
                .unwrap(),
            Some(t(50))
        );
        // A1: another account neither reads nor marks it.
        let other = other_account(&fx).await;
        fx.store
            .mark_contact_seen(other, contact, t(90))
            .await
            .unwrap();
        assert_eq!(
            fx.store.contact_last_seen(other, contact).await.unwrap(),
            None
        );
        assert_eq!(
            fx.store
                .contact_last_seen(fx.account, contact)
                .await
                .unwrap(),
            Some(t(50))
        );
        // Editing the card keeps it.
        let mut card = fx
            .store
            .contact(fx.account, contact)
            .await
            .unwrap()
            .unwrap();
        card.notes = "VIP".into();
        fx.store.save_contact(&card).await.unwrap();
        assert_eq!(
            fx.store
                .contact_last_seen(fx.account, contact)
                .await
                .unwrap(),
            Some(t(50))
        );
    }
);

contract!(
    c10_the_orders_of_a_conversation_oldest_first,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let order = |at: i64, note: &str| {
            Order::create(
                OrderOrigin {
                    id: OrderId::from_uuid(id()),
                    account: fx.account,
                    conversation: conversation.id,
                    contact,
                },
                NewOrder {
                    items: vec![OrderLine {
                        name: "Router".into(),
                        quantity: 2,
                        unit_price_minor: 4_999,
                    }],
                    currency: "eur".into(),
                    note: note.into(),
                    external_reference: Some("ERP-7".into()),
                },
                Actor::Agent(AgentId::from_uuid(id())),
                t(at),
            )
            .unwrap()
        };
        let (second, first) = (order(20, "second"), order(10, "first"));
        let mut commit = Commit::new(fx.account);
        commit.orders = vec![second.clone(), first.clone()];
        fx.store.commit(commit).await.unwrap();
        assert_eq!(
            fx.store.orders(fx.account, conversation.id).await.unwrap(),
            [first, second]
        );
        assert_eq!(
            fx.store
                .orders(fx.account, ConversationId::from_uuid(id()))
                .await
                .unwrap(),
            []
        );
        let other = other_account(&fx).await;
        assert_eq!(fx.store.orders(other, conversation.id).await.unwrap(), []);
    }
);
