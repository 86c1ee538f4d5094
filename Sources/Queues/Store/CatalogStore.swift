import Foundation
import SQLKit
import TurnoCore

/// Branches, services and queues: the set-up that staff edit, as opposed to the tickets that flow through it.
extension QueueStore {
    func branch(_ id: BranchID, sql: any SQLDatabase) async throws -> Branch? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.branchColumns) FROM branches WHERE id = \(bind: id) AND active = 1
            """
        ).first().map(Self.branch(from:))
    }

    /// The branch whose public id (in kiosk, display and snapshot URLs) is `publicID`.
    func branch(publicID: String, sql: any SQLDatabase) async throws -> Branch? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.branchColumns) FROM branches WHERE public_id = \(bind: publicID) AND active = 1
            """
        ).first().map(Self.branch(from:))
    }

    public func branch(publicID: String) async throws -> Branch? {
        try await storage.read { try await branch(publicID: publicID, sql: $0) }
    }

    public func branch(_ id: BranchID) async throws -> Branch? {
        try await storage.read { try await branch(id, sql: $0) }
    }

    public func branches(organizationID: Int64) async throws -> [Branch] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: Self.branchColumns) FROM branches
                WHERE organization_id = \(bind: organizationID) AND active = 1 ORDER BY id
                """
            ).all().map(Self.branch(from:))
        }
    }

    /// Branches of every organization, oldest first (what the start-up log lists).
    public func branchesOfAllOrganizations(limit: Int) async throws -> [Branch] {
        try await storage.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.branchColumns) FROM branches WHERE active = 1 ORDER BY id LIMIT \(literal: limit)").all().map(
                Self.branch(from:)
            )
        }
    }

    static let branchColumns = """
        id, organization_id, name, time_zone, language, routing_mode, is_open, public_id, self_service_classes,
        kiosk_opened_at_ms, display_opened_at_ms, opening_hours, counters_follow_shifts
        """

    static func branch(from row: any SQLRow) throws -> Branch {
        Branch(
            id: try row.decode(column: "id", as: Int64.self),
            organizationID: try row.decode(column: "organization_id", as: Int64.self),
            name: try row.decode(column: "name", as: String.self),
            timeZone: try row.decode(column: "time_zone", as: String.self),
            language: try row.decode(column: "language", as: String.self),
            routingMode: RoutingMode(rawValue: try row.decode(column: "routing_mode", as: String.self)) ?? .dedicated,
            isOpen: try row.decode(column: "is_open", as: Int.self) != 0,
            publicID: try row.decode(column: "public_id", as: String.self),
            selfServiceClasses: Set(
                try row.decode(column: "self_service_classes", as: String.self).split(separator: ",").compactMap { CustomerClass(rawValue: String($0)) }
            ),
            kioskOpenedAtMs: try row.decode(column: "kiosk_opened_at_ms", as: Int64?.self),
            displayOpenedAtMs: try row.decode(column: "display_opened_at_ms", as: Int64?.self),
            openingHours: try row.decode(column: "opening_hours", as: String?.self).map {
                try JSONCoding.decoder.decode(OpeningHours.self, from: Data($0.utf8))
            },
            countersFollowShifts: try row.decode(column: "counters_follow_shifts", as: Int.self) != 0
        )
    }

    /// Notes the first opening of a branch's kiosk or display page.
    public func notePageOpened(_ page: BranchPage, branchID: BranchID) async throws {
        try await storage.write { transaction in
            try await transaction.sql.raw(
                """
                UPDATE branches SET \(unsafeRaw: page.rawValue)_opened_at_ms = \(bind: transaction.timeMs)
                WHERE id = \(bind: branchID) AND \(unsafeRaw: page.rawValue)_opened_at_ms IS NULL
                """
            ).run()
        }
    }

    public func createBranch(_ branch: Branch, in transaction: Transaction) async throws -> Branch {
        let publicID = RandomToken.make(bytes: 12)
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO branches (organization_id, name, time_zone, language, routing_mode, is_open, created_at_ms, public_id, self_service_classes)
                VALUES (\(bind: branch.organizationID), \(bind: branch.name), \(bind: branch.timeZone), \(bind: branch.language),
                        \(bind: branch.routingMode.rawValue), \(bind: branch.isOpen ? 1 : 0), \(bind: transaction.timeMs), \(bind: publicID),
                        \(bind: Self.storedSelfServiceClasses(of: branch)))
                RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new branch's id") }
        var created = branch
        created.id = try row.decode(column: "id", as: Int64.self)
        created.publicID = publicID
        return created
    }

    /// A branch's self-service classes as stored: comma-separated in the enumeration's order.
    static func storedSelfServiceClasses(of branch: Branch) -> String {
        branch.orderedSelfServiceClasses.map(\.rawValue).joined(separator: ",")
    }

    public func updateBranch(_ branch: Branch, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE branches SET name = \(bind: branch.name), time_zone = \(bind: branch.timeZone), language = \(bind: branch.language),
                routing_mode = \(bind: branch.routingMode.rawValue), is_open = \(bind: branch.isOpen ? 1 : 0),
                self_service_classes = \(bind: Self.storedSelfServiceClasses(of: branch))
            WHERE id = \(bind: branch.id)
            """
        ).run()
        try await bumpVersion(of: branch.id, in: transaction)
    }

    /// Sets a branch's opening hours and whether its counters follow the shifts (apart from `updateBranch`, so that a
    /// change of the branch's name cannot undo a change of its hours made meanwhile).
    func setHours(of branch: Branch, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE branches SET opening_hours = \(bind: try branch.openingHours.map(JSONCoding.text)),
                counters_follow_shifts = \(bind: branch.countersFollowShifts ? 1 : 0)
            WHERE id = \(bind: branch.id)
            """
        ).run()
        try await bumpVersion(of: branch.id, in: transaction)
    }

    func services(of branchID: BranchID, sql: any SQLDatabase) async throws -> [Service] {
        try await sql.raw(
            """
            SELECT id, branch_id, name, prefix, priority_weight, target_wait_s, default_service_s FROM services
            WHERE branch_id = \(bind: branchID) AND active = 1 ORDER BY id
            """
        ).all().map { row in
            Service(
                id: try row.decode(column: "id", as: Int64.self),
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                name: try row.decode(column: "name", as: String.self),
                prefix: try row.decode(column: "prefix", as: String.self),
                priorityWeight: try row.decode(column: "priority_weight", as: Int.self),
                targetWaitSeconds: try row.decode(column: "target_wait_s", as: Int.self),
                defaultServiceSeconds: try row.decode(column: "default_service_s", as: Int.self)
            )
        }
    }

    public func createService(_ service: Service, in transaction: Transaction) async throws -> Service {
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO services (branch_id, name, prefix, priority_weight, target_wait_s, default_service_s)
                VALUES (\(bind: service.branchID), \(bind: service.name), \(bind: service.prefix), \(bind: service.priorityWeight),
                        \(bind: service.targetWaitSeconds), \(bind: service.defaultServiceSeconds))
                RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new service's id") }
        var created = service
        created.id = try row.decode(column: "id", as: Int64.self)
        try await bumpVersion(of: service.branchID, in: transaction)
        return created
    }

    public func updateService(_ service: Service, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE services SET name = \(bind: service.name), prefix = \(bind: service.prefix), priority_weight = \(bind: service.priorityWeight),
                target_wait_s = \(bind: service.targetWaitSeconds), default_service_s = \(bind: service.defaultServiceSeconds)
            WHERE id = \(bind: service.id)
            """
        ).run()
        try await bumpVersion(of: service.branchID, in: transaction)
    }

    public func deactivateService(_ service: Service, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE services SET active = 0 WHERE id = \(bind: service.id)").run()
        try await transaction.sql.raw("DELETE FROM queue_services WHERE service_id = \(bind: service.id)").run()
        try await bumpVersion(of: service.branchID, in: transaction)
    }

    func queues(of branchID: BranchID, sql: any SQLDatabase) async throws -> [Queue] {
        let serviceRows = try await sql.raw(
            """
            SELECT qs.queue_id, qs.service_id FROM queue_services qs JOIN queues q ON q.id = qs.queue_id WHERE q.branch_id = \(bind: branchID)
            """
        ).all()
        var servicesByQueue: [QueueID: Set<ServiceID>] = [:]
        for row in serviceRows {
            servicesByQueue[try row.decode(column: "queue_id", as: Int64.self), default: []].insert(try row.decode(column: "service_id", as: Int64.self))
        }
        let operatorRows = try await sql.raw(
            """
            SELECT qo.queue_id, qo.user_id FROM queue_operators qo JOIN queues q ON q.id = qo.queue_id WHERE q.branch_id = \(bind: branchID)
            """
        ).all()
        var operatorsByQueue: [QueueID: Set<StaffID>] = [:]
        for row in operatorRows {
            operatorsByQueue[try row.decode(column: "queue_id", as: Int64.self), default: []].insert(try row.decode(column: "user_id", as: Int64.self))
        }
        return try await sql.raw(
            """
            SELECT id, branch_id, name, counter, state, last_assigned_at_ms, average_service_s FROM queues
            WHERE branch_id = \(bind: branchID) AND active = 1 ORDER BY id
            """
        ).all().map { row in
            let id = try row.decode(column: "id", as: Int64.self)
            return Queue(
                id: id,
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                name: try row.decode(column: "name", as: String.self),
                counter: try row.decode(column: "counter", as: String.self),
                serviceIDs: servicesByQueue[id] ?? [],
                state: QueueState(rawValue: try row.decode(column: "state", as: String.self)) ?? .closed,
                operatorIDs: operatorsByQueue[id] ?? [],
                lastAssignedAtMs: try row.decode(column: "last_assigned_at_ms", as: Int64?.self),
                averageServiceSeconds: try row.decode(column: "average_service_s", as: Double?.self)
            )
        }
    }

    public func createQueue(_ queue: Queue, in transaction: Transaction) async throws -> Queue {
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO queues (branch_id, name, counter, state, opened_at_ms)
                VALUES (\(bind: queue.branchID), \(bind: queue.name), \(bind: queue.counter), \(bind: queue.state.rawValue),
                        \(bind: queue.state == .open ? transaction.timeMs : nil))
                RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new queue's id") }
        var created = queue
        created.id = try row.decode(column: "id", as: Int64.self)
        try await replaceMembers(of: created, in: transaction)
        try await bumpVersion(of: queue.branchID, in: transaction)
        return created
    }

    public func updateQueue(_ queue: Queue, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE queues SET name = \(bind: queue.name), counter = \(bind: queue.counter) WHERE id = \(bind: queue.id)").run()
        try await replaceMembers(of: queue, in: transaction)
        try await bumpVersion(of: queue.branchID, in: transaction)
    }

    public func deactivateQueue(_ queue: Queue, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE queues SET active = 0, state = 'closed' WHERE id = \(bind: queue.id)").run()
        try await bumpVersion(of: queue.branchID, in: transaction)
    }

    private func replaceMembers(of queue: Queue, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM queue_services WHERE queue_id = \(bind: queue.id)").run()
        for service in queue.serviceIDs.sorted() {
            try await transaction.sql.raw("INSERT INTO queue_services (queue_id, service_id) VALUES (\(bind: queue.id), \(bind: service))").run()
        }
        try await transaction.sql.raw("DELETE FROM queue_operators WHERE queue_id = \(bind: queue.id)").run()
        for user in queue.operatorIDs.sorted() {
            try await transaction.sql.raw("INSERT INTO queue_operators (queue_id, user_id) VALUES (\(bind: queue.id), \(bind: user))").run()
        }
    }

    /// The branch a queue belongs to, for routes addressed by queue id.
    public func branchID(ofQueue id: QueueID) async throws -> BranchID? {
        try await storage.read { sql in
            try await sql.raw("SELECT branch_id FROM queues WHERE id = \(bind: id) AND active = 1").first()?.decode(column: "branch_id", as: Int64.self)
        }
    }

    /// A branch's active services.
    public func services(of branchID: BranchID) async throws -> [Service] {
        try await storage.read { try await services(of: branchID, sql: $0) }
    }

    /// A branch's active counters.
    public func queues(of branchID: BranchID) async throws -> [Queue] {
        try await storage.read { try await queues(of: branchID, sql: $0) }
    }

    /// The branch a service belongs to, for routes addressed by service id.
    public func branchID(ofService id: ServiceID) async throws -> BranchID? {
        try await storage.read { sql in
            try await sql.raw("SELECT branch_id FROM services WHERE id = \(bind: id) AND active = 1").first()?.decode(column: "branch_id", as: Int64.self)
        }
    }

    /// Tickets issued since `sinceMs` per service, for the arrival rates of the dashboard.
    public func arrivalsPerService(branchID: BranchID, sinceMs: Int64) async throws -> [ServiceID: Int] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT service_id, COUNT(*) AS n FROM tickets WHERE branch_id = \(bind: branchID) AND issued_at_ms > \(bind: sinceMs) GROUP BY service_id
                """
            ).all().reduce(into: [ServiceID: Int]()) { $0[try $1.decode(column: "service_id", as: Int64.self)] = try $1.decode(column: "n", as: Int.self) }
        }
    }

    /// A call the display lists: the ticket's number, the counter it was last called to, and when.
    public struct Call: Sendable {
        public var number: TicketNumber
        public var queueID: QueueID?
        public var atMs: Int64
    }

    /// The branch's latest calls since `sinceMs`, newest first; a transfer does not clear them.
    public func lastCalls(branchID: BranchID, sinceMs: Int64, limit: Int) async throws -> [Call] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT prefix, sequence, last_called_queue_id, last_called_at_ms FROM tickets
                WHERE branch_id = \(bind: branchID) AND last_called_at_ms > \(bind: sinceMs)
                ORDER BY last_called_at_ms DESC LIMIT \(literal: limit)
                """
            ).all().map { row in
                Call(
                    number: TicketNumber(prefix: try row.decode(column: "prefix", as: String.self), sequence: try row.decode(column: "sequence", as: Int.self)),
                    queueID: try row.decode(column: "last_called_queue_id", as: Int64?.self),
                    atMs: try row.decode(column: "last_called_at_ms", as: Int64.self)
                )
            }
        }
    }

    /// Tickets finished today at each queue, and their average wait (called − issued), for the overview.
    public func servedToday(branchID: BranchID, sinceMs: Int64) async throws -> [QueueID: (served: Int, averageWaitSeconds: Double)] {
        try await storage.read { sql in
            let rows = try await sql.raw(
                """
                SELECT queue_id, COUNT(*) AS served, CAST(AVG(called_at_ms - issued_at_ms) AS DOUBLE PRECISION) AS wait_ms FROM tickets
                WHERE branch_id = \(bind: branchID) AND state = 'served' AND finished_at_ms >= \(bind: sinceMs) AND queue_id IS NOT NULL
                GROUP BY queue_id
                """
            ).all()
            var result: [QueueID: (Int, Double)] = [:]
            for row in rows {
                result[try row.decode(column: "queue_id", as: Int64.self)] = (
                    try row.decode(column: "served", as: Int.self), (try row.decode(column: "wait_ms", as: Double?.self) ?? 0) / 1000
                )
            }
            return result
        }
    }
}
