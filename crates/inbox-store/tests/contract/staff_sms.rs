//! `StaffSmsStore` (N4, A1): an account's staff SMS setting is absent until saved, replaced by
//! the next save, and never read or overwritten through another account.

use conversation_core::ports::{StaffSmsSettings, StaffSmsStore};

use crate::directory::other_account;
use crate::support::{contract, t};

contract!(
    n4_a1_the_staff_sms_setting_is_saved_replaced_and_kept_per_account,
    |fx: crate::support::Fixture| async move {
        assert_eq!(fx.store.staff_sms(fx.account).await.unwrap(), None);
        let first = StaffSmsSettings {
            enabled: true,
            numbers: vec!["+14155550100".into(), "+33612345678".into()],
        };
        fx.store
            .save_staff_sms(fx.account, &first, t(1))
            .await
            .unwrap();
        assert_eq!(
            fx.store.staff_sms(fx.account).await.unwrap(),
            Some(first.clone())
        );
        let second = StaffSmsSettings {
            enabled: false,
            numbers: vec!["+14155550100".into()],
        };
        fx.store
            .save_staff_sms(fx.account, &second, t(2))
            .await
            .unwrap();
        assert_eq!(
            fx.store.staff_sms(fx.account).await.unwrap(),
            Some(second.clone())
        );
        // A1: another account has its own, and saving it leaves this one alone.
        let other = other_account(&fx).await;
        assert_eq!(fx.store.staff_sms(other).await.unwrap(), None);
        fx.store.save_staff_sms(other, &first, t(3)).await.unwrap();
        assert_eq!(fx.store.staff_sms(fx.account).await.unwrap(), Some(second));
        assert_eq!(fx.store.staff_sms(other).await.unwrap(), Some(first));
    }
);
