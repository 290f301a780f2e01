-- LDAP directory (issue 25): an entry the directory says is blocked or deleted
-- (LDAP_STATUS_BLOCKED, LDAP_STATUS_DELETED: 'bloque', 'supprime'), or whose profile logs in
-- through EduConnect (LDAP_EDUCONNECT_PROFILES: 'educonnect'); NULL otherwise. Such an
-- account is refused like an unknown identifier and shown as such to staff.
ALTER TABLE accounts ADD COLUMN directory_state TEXT;
