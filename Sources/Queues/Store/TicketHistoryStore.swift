import SQLKit
import TurnoCore

/// Which of a branch's tickets to list: local days in the branch's time zone (`YYYY-MM-DD`, both ends included), and
/// optionally a service, counter, staff member (who took any step of it), state, class and channel. Oldest first,
/// `limit` at a time after the ticket `afterID`.
struct TicketFilter: Sendable, Equatable {
    var fromDay: String
    var toDay: String
    var serviceID: ServiceID?
    var queueID: QueueID?
    var operatorID: StaffID?
    var state: TicketState?
    var customerClass: CustomerClass?
    var channel: Channel?
    var limit = 100
    var afterID: TicketID?
}

/// A ticket as its history lists it: the ticket and the rating its customer gave, if any.
struct TicketRecord: Sendable {
    var ticket: Ticket
    var rating: Int?
}

extension QueueStore {
    func tickets(of branchID: BranchID, _ filter: TicketFilter) async throws -> [TicketRecord] {
        try await storage.read { sql in
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: Self.ticketColumns), rating FROM tickets
                WHERE branch_id = \(bind: branchID) AND day >= \(bind: filter.fromDay) AND day <= \(bind: filter.toDay)
                """
            if let serviceID = filter.serviceID {
                query.appendInterpolation(unsafeRaw: " AND service_id = ")
                query.appendInterpolation(bind: serviceID)
            }
            if let queueID = filter.queueID {
                query.appendInterpolation(unsafeRaw: " AND queue_id = ")
                query.appendInterpolation(bind: queueID)
            }
            if let state = filter.state {
                query.appendInterpolation(unsafeRaw: " AND state = ")
                query.appendInterpolation(bind: state.rawValue)
            }
            if let customerClass = filter.customerClass {
                query.appendInterpolation(unsafeRaw: " AND customer_class = ")
                query.appendInterpolation(bind: customerClass.rawValue)
            }
            if let channel = filter.channel {
                query.appendInterpolation(unsafeRaw: " AND channel = ")
                query.appendInterpolation(bind: channel.rawValue)
            }
            if let operatorID = filter.operatorID {
                query.appendInterpolation(unsafeRaw: " AND id IN (SELECT ticket_id FROM ticket_steps WHERE branch_id = ")
                query.appendInterpolation(bind: branchID)
                query.appendInterpolation(unsafeRaw: " AND user_id = ")
                query.appendInterpolation(bind: operatorID)
                query.appendInterpolation(unsafeRaw: ")")
            }
            if let afterID = filter.afterID {
                query.appendInterpolation(unsafeRaw: " AND id > ")
                query.appendInterpolation(bind: afterID)
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY id LIMIT \(filter.limit)")
            return try await sql.raw(query).all().map { row in
                TicketRecord(ticket: try Self.ticket(from: row), rating: try row.decode(column: "rating", as: Int?.self))
            }
        }
    }
}
