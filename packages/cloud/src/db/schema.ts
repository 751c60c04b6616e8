/**
 * The node's state schema, one migration per entry; `user_version` counts how many ran. Append
 * only: a shipped migration is never edited.
 */
export const migrations: readonly string[] = [
  /* 1: tenants, users, sessions, API tokens, the setup token, the audit chain */ `
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    require_approval INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
  );
  CREATE TABLE secrets (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants(id),
    subject TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    role TEXT,
    secret_hash TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    scope TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX secrets_by_subject ON secrets(kind, subject);
  CREATE INDEX secrets_by_tenant ON secrets(tenant_id, kind, created_at);
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    tenant_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_by_tenant ON audit(tenant_id, seq);
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  /* 2: the device registry */ `
  CREATE TABLE profiles (
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
  );
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    profile_id TEXT,
    state TEXT NOT NULL,
    labels TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    state_reason TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX devices_by_tenant ON devices(tenant_id, id);
  CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES devices(id),
    fingerprint TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT
  );
  CREATE INDEX certificates_by_device ON certificates(device_id, created_at);
  CREATE TABLE groups (
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    query TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
  );
  CREATE TABLE group_members (
    tenant_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, group_id, device_id)
  );
  CREATE TABLE presence (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,
    last_seen_at INTEGER,
    wake_by INTEGER
  );
  CREATE TABLE device_errors (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    last_code TEXT NOT NULL,
    last_message TEXT NOT NULL,
    last_topic TEXT NOT NULL,
    last_at INTEGER NOT NULL
  );
  `,
  /* 3: device profiles get a description; lookups by profile and by group member */ `
  ALTER TABLE profiles ADD COLUMN description TEXT NOT NULL DEFAULT '';
  CREATE INDEX devices_by_profile ON devices(tenant_id, profile_id);
  CREATE INDEX group_members_by_device ON group_members(device_id);
  `,
  /* 4: device twins with their history; commands and bulk command jobs */ `
  CREATE TABLE twins (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    desired TEXT NOT NULL DEFAULT '{}',
    desired_version INTEGER NOT NULL DEFAULT 0,
    desired_meta TEXT NOT NULL DEFAULT '{}',
    desired_updated_at INTEGER,
    reported TEXT NOT NULL DEFAULT '{}',
    reported_version INTEGER NOT NULL DEFAULT 0,
    reported_meta TEXT NOT NULL DEFAULT '{}',
    reported_updated_at INTEGER,
    delivered_version INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER
  );
  CREATE INDEX twins_by_tenant ON twins(tenant_id, device_id);
  CREATE TABLE twin_history (
    seq INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    side TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    at INTEGER NOT NULL,
    patch TEXT NOT NULL
  );
  CREATE INDEX twin_history_by_device ON twin_history(device_id, side, seq);
  CREATE TABLE twin_baselines (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    side TEXT NOT NULL,
    version INTEGER NOT NULL,
    at INTEGER NOT NULL,
    document TEXT NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (device_id, side)
  );
  CREATE TABLE command_jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    timeout_s INTEGER NOT NULL,
    expires_in_s INTEGER NOT NULL,
    total INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX command_jobs_by_tenant ON command_jobs(tenant_id, created_at);
  CREATE TABLE commands (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    job_id TEXT REFERENCES command_jobs(id),
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    timeout_s INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    deadline_at INTEGER NOT NULL,
    sent_at INTEGER,
    delivered_at INTEGER,
    finished_at INTEGER,
    result TEXT,
    error TEXT,
    late_response TEXT,
    late_at INTEGER
  );
  CREATE INDEX commands_by_device ON commands(device_id);
  CREATE INDEX commands_open ON commands(status, deadline_at);
  CREATE INDEX commands_unsent ON commands(sent_at, status);
  CREATE INDEX commands_by_job ON commands(job_id, status);
  `,
  /* 5: alarms (packages/cloud/src/alarms) */ `
  CREATE TABLE alarms (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    details TEXT,
    source_rule TEXT,
    source_rule_version INTEGER,
    source_user TEXT,
    raised_at INTEGER NOT NULL,
    last_raised_at INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    cleared_at INTEGER,
    cleared_by TEXT,
    comments INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX alarms_one_open ON alarms(tenant_id, device_id, type)
    WHERE status != 'cleared';
  CREATE INDEX alarms_by_tenant ON alarms(tenant_id, raised_at, seq);
  CREATE INDEX alarms_by_status ON alarms(tenant_id, status, raised_at, seq);
  CREATE INDEX alarms_by_device ON alarms(tenant_id, device_id, raised_at, seq);
  CREATE INDEX alarms_by_type ON alarms(tenant_id, type, raised_at, seq);
  CREATE INDEX alarms_by_rule ON alarms(tenant_id, source_rule, raised_at, seq);
  CREATE TABLE alarm_events (
    seq INTEGER PRIMARY KEY,
    alarm_id TEXT NOT NULL REFERENCES alarms(id),
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    details TEXT NOT NULL
  );
  CREATE INDEX alarm_events_by_alarm ON alarm_events(alarm_id, seq);
  CREATE TABLE alarm_comments (
    seq INTEGER PRIMARY KEY,
    alarm_id TEXT NOT NULL REFERENCES alarms(id),
    tenant_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    text TEXT NOT NULL
  );
  CREATE INDEX alarm_comments_by_alarm ON alarm_comments(alarm_id, seq);
  `,
  /* 6: rules and their versions (packages/cloud/src/rules) */ `
  CREATE TABLE rules (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    disabled_reason TEXT,
    disabled_at INTEGER,
    PRIMARY KEY (tenant_id, name)
  );
  CREATE TABLE rule_versions (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
  );
  `,
  /* 7: device list sorts served by an index (issue 9), the fleet summary's counts, and each
     device's connection history (kept to its last 1,000 changes or 30 days) */ `
  CREATE INDEX devices_by_tenant_created ON devices(tenant_id, created_at, id);
  CREATE INDEX devices_by_tenant_name ON devices(tenant_id, name, id);
  CREATE INDEX devices_by_tenant_state ON devices(tenant_id, state, id);
  CREATE TABLE presence_events (
    seq INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX presence_events_by_device ON presence_events(device_id, seq);
  ALTER TABLE presence ADD COLUMN history_count INTEGER NOT NULL DEFAULT 0;
  `,
  /* 8: cleared alarms found by age, for their retention (packages/cloud/src/alarms) */ `
  CREATE INDEX alarms_cleared ON alarms(cleared_at) WHERE status = 'cleared';
  `,
]
