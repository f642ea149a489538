-- N4: each account's staff SMS setting (whether a visitor's new chat texts staff, and which
-- numbers), written by its owners and admins; JSON `{"enabled": bool, "numbers": [...]}`.
CREATE TABLE staff_sms_settings (
    account_id  BLOB PRIMARY KEY REFERENCES accounts (id),
    settings    TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
