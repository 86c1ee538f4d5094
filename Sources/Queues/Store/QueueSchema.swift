import TurnoCore

/// The queue module's tables.
enum QueueSchema {
    static let migrations: [Migration] = [
        Migration(module: "queues", version: 1, name: "branches, services, queues, tickets") { kind in
            let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            let real = kind == .postgres ? "DOUBLE PRECISION" : "REAL"
            return [
                """
                CREATE TABLE branches (
                    id \(id),
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    name TEXT NOT NULL,
                    time_zone TEXT NOT NULL,
                    language TEXT NOT NULL,
                    routing_mode TEXT NOT NULL,
                    is_open INTEGER NOT NULL,
                    active INTEGER NOT NULL DEFAULT 1,
                    created_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX branches_organization ON branches (organization_id)",
                """
                CREATE TABLE services (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    priority_weight INTEGER NOT NULL,
                    target_wait_s INTEGER NOT NULL,
                    default_service_s INTEGER NOT NULL,
                    active INTEGER NOT NULL DEFAULT 1
                )
                """,
                "CREATE INDEX services_branch ON services (branch_id)",
                """
                CREATE TABLE queues (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    name TEXT NOT NULL,
                    counter TEXT NOT NULL,
                    state TEXT NOT NULL,
                    last_assigned_at_ms BIGINT,
                    average_service_s \(real),
                    active INTEGER NOT NULL DEFAULT 1
                )
                """,
                "CREATE INDEX queues_branch ON queues (branch_id)",
                "CREATE TABLE queue_services (queue_id BIGINT NOT NULL REFERENCES queues (id), service_id BIGINT NOT NULL REFERENCES services (id), PRIMARY KEY (queue_id, service_id))",
                "CREATE TABLE queue_operators (queue_id BIGINT NOT NULL REFERENCES queues (id), user_id BIGINT NOT NULL, PRIMARY KEY (queue_id, user_id))",
                """
                CREATE TABLE tickets (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    token TEXT NOT NULL UNIQUE,
                    prefix TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    day TEXT NOT NULL,
                    service_id BIGINT NOT NULL REFERENCES services (id),
                    queue_id BIGINT,
                    customer_class TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    state TEXT NOT NULL,
                    issued_at_ms BIGINT NOT NULL,
                    called_at_ms BIGINT,
                    started_at_ms BIGINT,
                    finished_at_ms BIGINT,
                    recall_count INTEGER NOT NULL DEFAULT 0,
                    held_reason TEXT,
                    rating INTEGER,
                    comment TEXT,
                    idempotency_key TEXT,
                    UNIQUE (branch_id, day, prefix, sequence),
                    UNIQUE (branch_id, idempotency_key)
                )
                """,
                "CREATE INDEX tickets_branch_state ON tickets (branch_id, state)",
                "CREATE INDEX tickets_numbering ON tickets (branch_id, day, service_id, sequence)",
            ]
        },
        Migration(module: "queues", version: 2, name: "branch versions for cached state") { _ in
            ["ALTER TABLE branches ADD COLUMN version BIGINT NOT NULL DEFAULT 0"]
        },
        Migration(module: "queues", version: 3, name: "numbering per prefix, public branch ids, self-service classes") { kind in
            [
                // The unique key (branch, day, prefix, sequence) serves the numbering now.
                "DROP INDEX tickets_numbering",
                "ALTER TABLE branches ADD COLUMN public_id TEXT",
                "ALTER TABLE branches ADD COLUMN self_service_classes TEXT NOT NULL DEFAULT 'regular'",
                kind == .postgres
                    ? "UPDATE branches SET public_id = substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 16)"
                    : "UPDATE branches SET public_id = lower(hex(randomblob(8)))",
                "CREATE UNIQUE INDEX branches_public_id ON branches (public_id)",
            ]
        },
        Migration(module: "queues", version: 4, name: "transfers, last calls kept through transfers, first openings of kiosk and display") { _ in
            [
                "ALTER TABLE tickets ADD COLUMN transferred_at_ms BIGINT",
                // Where and when it was last called, kept when a transfer clears the call: the display lists it.
                "ALTER TABLE tickets ADD COLUMN last_called_at_ms BIGINT",
                "ALTER TABLE tickets ADD COLUMN last_called_queue_id BIGINT",
                "UPDATE tickets SET last_called_at_ms = called_at_ms, last_called_queue_id = queue_id WHERE called_at_ms IS NOT NULL",
                "CREATE INDEX tickets_last_calls ON tickets (branch_id, last_called_at_ms)",
                "ALTER TABLE branches ADD COLUMN kiosk_opened_at_ms BIGINT",
                "ALTER TABLE branches ADD COLUMN display_opened_at_ms BIGINT",
            ]
        },
        Migration(module: "queues", version: 5, name: "ticket steps: who did what to each ticket, and when") { kind in
            [
                // One row per step of a ticket, written in the transaction of the change: `user_id` is the staff member
                // who did it (none for customers, kiosks and the server itself), `queue_id` the counter it was at after
                // the step, `from_*` where a transfer or reallocation took it from.
                """
                CREATE TABLE ticket_steps (
                    id \(kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
                    branch_id BIGINT NOT NULL,
                    step TEXT NOT NULL,
                    at_ms BIGINT NOT NULL,
                    user_id BIGINT,
                    queue_id BIGINT,
                    service_id BIGINT NOT NULL,
                    from_queue_id BIGINT,
                    from_service_id BIGINT
                )
                """,
                "CREATE INDEX ticket_steps_ticket ON ticket_steps (ticket_id, id)",
                "CREATE INDEX ticket_steps_branch ON ticket_steps (branch_id, at_ms)",
                "CREATE INDEX ticket_steps_user ON ticket_steps (user_id, ticket_id)",
                // The history lists a branch's tickets by local day, oldest first.
                "CREATE INDEX tickets_history ON tickets (branch_id, day, id)",
            ]
        },
        Migration(module: "queues", version: 6, name: "retention: how long customers' details are kept") { _ in
            [
                // Per organization, in days; no row keeps everything.
                "CREATE TABLE retention (organization_id BIGINT PRIMARY KEY REFERENCES organizations (id), days INTEGER NOT NULL, changed_at_ms BIGINT NOT NULL)",
                "ALTER TABLE tickets ADD COLUMN erased_at_ms BIGINT",
                "CREATE INDEX tickets_issued ON tickets (branch_id, issued_at_ms)",
            ]
        },
        Migration(module: "queues", version: 7, name: "report cells, and when and by whom each counter was opened") { _ in
            [
                // See ReportStore: a cell's figures, its waits and service times as counts per duration bucket.
                """
                CREATE TABLE report_cells (
                    branch_id BIGINT NOT NULL,
                    span TEXT NOT NULL,
                    dimension TEXT NOT NULL,
                    period TEXT NOT NULL,
                    member BIGINT NOT NULL,
                    issued BIGINT NOT NULL, served BIGINT NOT NULL, no_shows BIGINT NOT NULL, cancelled BIGINT NOT NULL,
                    expired BIGINT NOT NULL, transfers BIGINT NOT NULL, waited BIGINT NOT NULL, wait_sum_ms BIGINT NOT NULL,
                    wait_max_ms BIGINT NOT NULL, within_target BIGINT NOT NULL, service_sum_ms BIGINT NOT NULL,
                    service_max_ms BIGINT NOT NULL, open_ms BIGINT NOT NULL, rating1 BIGINT NOT NULL, rating2 BIGINT NOT NULL,
                    rating3 BIGINT NOT NULL, rating4 BIGINT NOT NULL, rating5 BIGINT NOT NULL, complaints BIGINT NOT NULL,
                    waits TEXT NOT NULL, services TEXT NOT NULL,
                    PRIMARY KEY (branch_id, span, dimension, period, member)
                )
                """,
                // How far into the event log the cells have counted ticket events (one row); every cell write holds it.
                "CREATE TABLE report_progress (id INTEGER PRIMARY KEY, last_sequence BIGINT NOT NULL)",
                "INSERT INTO report_progress (id, last_sequence) VALUES (1, 0)",
                "ALTER TABLE queues ADD COLUMN opened_at_ms BIGINT",
                "ALTER TABLE queues ADD COLUMN opened_by BIGINT",
            ]
        },
        Migration(module: "queues", version: 8, name: "complaints and their timeline") { kind in
            let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                """
                CREATE TABLE complaints (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    ticket_id BIGINT NOT NULL UNIQUE REFERENCES tickets (id),
                    text TEXT,
                    state TEXT NOT NULL,
                    assignee_id BIGINT,
                    reply TEXT,
                    replied_at_ms BIGINT,
                    created_at_ms BIGINT NOT NULL,
                    updated_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX complaints_branch ON complaints (branch_id, state, id)",
                // Every change, oldest first: what it set, the internal note and the reply to the customer.
                """
                CREATE TABLE complaint_notes (
                    id \(id),
                    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
                    at_ms BIGINT NOT NULL,
                    user_id BIGINT,
                    state TEXT,
                    assignee_id BIGINT,
                    unassigned INTEGER NOT NULL DEFAULT 0,
                    note TEXT,
                    reply TEXT
                )
                """,
                "CREATE INDEX complaint_notes_complaint ON complaint_notes (complaint_id, id)",
            ]
        },
        Migration(module: "queues", version: 9, name: "alerts: who follows which ticket how, and each branch's alert settings") { kind in
            let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                // `address` is the push subscription (JSON), the Telegram chat id or the e-mail address: erased with the
                // ticket's other details.
                """
                CREATE TABLE ticket_followers (
                    id \(id),
                    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    channel TEXT NOT NULL,
                    address TEXT NOT NULL,
                    language TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    near_sent INTEGER NOT NULL DEFAULT 0,
                    created_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX ticket_followers_ticket ON ticket_followers (ticket_id)",
                "CREATE INDEX ticket_followers_near ON ticket_followers (branch_id) WHERE near_sent = 0",
                "CREATE INDEX ticket_followers_chat ON ticket_followers (channel, address)",
                "CREATE TABLE branch_alert_settings (branch_id BIGINT PRIMARY KEY REFERENCES branches (id), settings TEXT NOT NULL, updated_at_ms BIGINT NOT NULL)",
            ]
        },
        Migration(module: "queues", version: 10, name: "opening hours, shift templates, assignments, absences and swaps") { kind in
            let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                // The week's hours, special days and last-ticket minutes as JSON (`OpeningHours`); NULL when none are set.
                "ALTER TABLE branches ADD COLUMN opening_hours TEXT",
                "ALTER TABLE branches ADD COLUMN counters_follow_shifts INTEGER NOT NULL DEFAULT 0",
                """
                CREATE TABLE shift_templates (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    name TEXT NOT NULL,
                    from_minute INTEGER NOT NULL,
                    to_minute INTEGER NOT NULL,
                    weekdays TEXT NOT NULL,
                    active INTEGER NOT NULL DEFAULT 1
                )
                """,
                "CREATE INDEX shift_templates_branch ON shift_templates (branch_id)",
                // Dates are local `YYYY-MM-DD` texts, which sort as dates; `last_date` NULL is open-ended.
                """
                CREATE TABLE shift_assignments (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    template_id BIGINT NOT NULL REFERENCES shift_templates (id),
                    user_id BIGINT NOT NULL,
                    queue_id BIGINT NOT NULL REFERENCES queues (id),
                    first_date TEXT NOT NULL,
                    last_date TEXT
                )
                """,
                "CREATE INDEX shift_assignments_branch ON shift_assignments (branch_id)",
                "CREATE INDEX shift_assignments_user ON shift_assignments (user_id)",
                """
                CREATE TABLE absences (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    user_id BIGINT NOT NULL,
                    first_date TEXT NOT NULL,
                    last_date TEXT NOT NULL,
                    reason TEXT NOT NULL
                )
                """,
                "CREATE INDEX absences_branch ON absences (branch_id)",
                """
                CREATE TABLE shift_swaps (
                    id \(id),
                    branch_id BIGINT NOT NULL REFERENCES branches (id),
                    assignment_id BIGINT NOT NULL REFERENCES shift_assignments (id),
                    date TEXT NOT NULL,
                    substitute_id BIGINT NOT NULL,
                    UNIQUE (assignment_id, date)
                )
                """,
                "CREATE INDEX shift_swaps_branch ON shift_swaps (branch_id)",
                // Up to when shift starts and ends have opened and closed each branch's counters.
                "CREATE INDEX shift_swaps_substitute ON shift_swaps (substitute_id)",
                "CREATE TABLE shift_progress (branch_id BIGINT PRIMARY KEY REFERENCES branches (id), applied_until_ms BIGINT NOT NULL)",
            ]
        },
    ]
}
