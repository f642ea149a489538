//! `ConnectionStore` (H1, A4, A1): a connection is saved per inbox, replaced by the next save,
//! read back with its settings and secrets, and invisible to (and unsavable by) another account.

use std::collections::BTreeMap;

use conversation_core::channel::ChannelKind;
use conversation_core::ids::InboxId;
use conversation_core::ports::{ChannelConnection, ConnectionStore, StoreError, StoredConnection};

use crate::directory::other_account;
use crate::support::{contract, id, t};

fn connection(settings: &[(&str, &str)], secrets: &[(&str, &str)]) -> ChannelConnection {
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    ChannelConnection {
        settings: map(settings),
        secrets: map(secrets),
    }
}

contract!(
    h1_a4_a_connection_is_saved_replaced_and_read_per_inbox,
    |fx: crate::support::Fixture| async move {
        let inbox = fx.inbox(None).await;
        assert_eq!(fx.store.connection(fx.account, inbox).await.unwrap(), None);
        let first = StoredConnection {
            account: fx.account,
            inbox,
            kind: ChannelKind::Api,
            connection: connection(&[("url", "http://a.test")], &[("secret", "s1")]),
            updated_at: t(1),
        };
        fx.store.save_connection(&first).await.unwrap();
        assert_eq!(
            fx.store.connection(fx.account, inbox).await.unwrap(),
            Some(first.clone())
        );
        let second = StoredConnection {
            connection: connection(&[("url", "http://b.test")], &[("secret", "s2")]),
            updated_at: t(2),
            ..first
        };
        fx.store.save_connection(&second).await.unwrap();
        assert_eq!(
            fx.store.connection(fx.account, inbox).await.unwrap(),
            Some(second)
        );
    }
);

contract!(
    a1_another_accounts_inbox_has_no_connection_and_takes_none,
    |fx: crate::support::Fixture| async move {
        let inbox = fx.inbox(None).await;
        let other = other_account(&fx).await;
        let saved = StoredConnection {
            account: fx.account,
            inbox,
            kind: ChannelKind::Api,
            connection: connection(&[], &[("secret", "s1")]),
            updated_at: t(1),
        };
        fx.store.save_connection(&saved).await.unwrap();
        assert_eq!(fx.store.connection(other, inbox).await.unwrap(), None);
        let foreign = StoredConnection {
            account: other,
            ..saved.clone()
        };
        let refused = fx.store.save_connection(&foreign).await;
        assert!(
            matches!(&refused, Err(StoreError::Domain(e)) if e.code() == "not_found"),
            "{refused:?}"
        );
        let unknown = StoredConnection {
            inbox: InboxId::from_uuid(id()),
            ..saved.clone()
        };
        assert!(fx.store.save_connection(&unknown).await.is_err());
        assert_eq!(
            fx.store.connection(fx.account, inbox).await.unwrap(),
            Some(saved)
        );
    }
);
