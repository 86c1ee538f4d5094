import Foundation
import SQLKit
import TurnoCore

/// A made-up history of a busy branch written straight into its report cells, for `turno bench reports`: what a
/// year of tickets would have added, without a year of requests. The tickets themselves are not written.
public enum SyntheticHistory {
    /// Adds `ticketsPerDay` tickets a day, for the `days` local days up to `lastDay`, to branch `branchID`'s cells:
    /// issued between 08:00 and 18:00 to one of `serviceIDs`, at one of `queueIDs` whose staff member (the same
    /// position in `userIDs`) ends them — most served, some not there, cancelled or expired, some transferred, rated
    /// or complained about — and each counter open ten hours a day.
    public static func seed(
        store: QueueStore,
        branchID: BranchID,
        timeZone: String,
        serviceIDs: [ServiceID],
        queueIDs: [QueueID],
        userIDs: [StaffID],
        days: Int,
        ticketsPerDay: Int,
        lastDay: String
    ) async throws {
        var random = SystemRandomNumberGenerator()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        var ticketID: TicketID = 1
        for offset in (0..<days).reversed() {
            guard let day = CalendarDays.adding(-offset, to: lastDay), let date = CalendarDays.date(day) else { continue }
            let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
            let opening = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: 8))!.milliseconds
            var contributions: [(ReportCellKey, ReportFigures)] = []
            for (index, queueID) in queueIDs.enumerated() {
                contributions += ReportContributions.openTime(
                    branchID: branchID,
                    queueID: queueID,
                    userID: userIDs[index % userIDs.count],
                    openedAtMs: opening,
                    closedAtMs: opening + 36_000_000,
                    timeZone: timeZone
                )
            }
            for _ in 0..<ticketsPerDay {
                let counter = Int.random(in: 0..<queueIDs.count, using: &random)
                let issued = opening + Int64.random(in: 0..<36_000_000, using: &random)
                var ticket = Ticket(
                    id: ticketID,
                    branchID: branchID,
                    token: "",
                    number: TicketNumber(prefix: "A", sequence: 1),
                    serviceID: serviceIDs.randomElement(using: &random)!,
                    queueID: queueIDs[counter],
                    customerClass: .regular,
                    channel: .kiosk,
                    state: .waiting,
                    issuedAtMs: issued
                )
                ticketID += 1
                let user = userIDs[counter % userIDs.count]
                contributions += ReportContributions.of(.ticketIssued(ticket), actor: nil, targetWaitSeconds: nil, timeZone: timeZone)
                // Waits mostly short, some long: the square of a uniform draw over forty minutes.
                let draw = Double.random(in: 0..<1, using: &random)
                let called = issued + Int64(draw * draw * 2_400_000)
                if Int.random(in: 0..<20, using: &random) == 0 {
                    let from = ticket.serviceID
                    ticket.serviceID = serviceIDs.randomElement(using: &random)!
                    contributions += ReportContributions.of(
                        .ticketTransferred(ticket, fromService: from, fromQueue: ticket.queueID),
                        actor: user,
                        targetWaitSeconds: nil,
                        timeZone: timeZone
                    )
                }
                let ending: QueueEvent
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<85:
                    (ticket.state, ticket.calledAtMs, ticket.startedAtMs) = (.served, called, called + 20_000)
                    ticket.finishedAtMs = called + 20_000 + Int64.random(in: 60_000...900_000, using: &random)
                    ending = .ticketServed(ticket)
                case 85..<90:
                    (ticket.state, ticket.calledAtMs, ticket.finishedAtMs) = (.noShow, called, called + 180_000)
                    ending = .ticketNoShow(ticket)
                case 90..<97:
                    (ticket.state, ticket.finishedAtMs) = (.cancelled, issued + Int64.random(in: 0...1_200_000, using: &random))
                    ending = .ticketCancelled(ticket)
                default:
                    (ticket.state, ticket.finishedAtMs) = (.expired, opening + 36_000_000)
                    ending = .ticketExpired(ticket)
                }
                contributions += ReportContributions.of(ending, actor: user, targetWaitSeconds: 900, timeZone: timeZone)
                let rating = ticket.state == .served && Int.random(in: 0..<3, using: &random) == 0 ? Int.random(in: 1...5, using: &random) : nil
                let complaint = ticket.state == .served && Int.random(in: 0..<100, using: &random) == 0
                if rating != nil || complaint {
                    contributions += ReportContributions.feedback(on: ticket, userID: user, rating: rating, complaint: complaint, timeZone: timeZone)
                }
            }
            try await store.storage.write { transaction in try await store.addToReports(contributions, in: transaction) }
        }
    }
}

extension SyntheticArrivals {
    /// Writes `history` as served tickets of branch `branchID` (services taken in turn), issued in each half hour of
    /// `timeZone` and served for `serviceSeconds`: what `turno bench forecast` and the tests ask the API to forecast
    /// from. A day a transaction, fifty tickets a statement.
    public static func write(
        _ history: [LocalDate: [Int]],
        store: QueueStore,
        branchID: BranchID,
        serviceIDs: [ServiceID],
        timeZone: String,
        serviceSeconds: Int64
    ) async throws {
        var sequence = 0
        for (date, slots) in history.sorted(by: { $0.key < $1.key }) {
            var rows: [SQLQueryString] = []
            for (slot, count) in slots.enumerated() where count > 0 {
                let at = LocalClock.instant(date, TimeOfDay(minutes: slot * ArrivalForecast.slotMinutes)!, timeZone: timeZone)
                for index in 0..<count {
                    sequence += 1
                    let issued = at + Int64(index) * 1_800_000 / Int64(count)
                    rows.append(
                        """
                        (\(bind: branchID), \(bind: "synthetic-\(sequence)"), 'S', \(bind: sequence), \(bind: date.description), \(bind: serviceIDs[sequence % serviceIDs.count]),
                         'regular', 'kiosk', 'served', \(bind: issued), \(bind: issued + 60_000), \(bind: issued + 60_000 + serviceSeconds * 1000))
                        """
                    )
                }
            }
            guard !rows.isEmpty else { continue }
            try await store.storage.write { transaction in
                for start in stride(from: 0, to: rows.count, by: 50) {
                    var query: SQLQueryString = """
                        INSERT INTO tickets (branch_id, token, prefix, sequence, day, service_id, customer_class, channel, state, issued_at_ms,
                                             started_at_ms, finished_at_ms) VALUES
                        """
                    for (offset, row) in rows[start..<min(start + 50, rows.count)].enumerated() {
                        query = offset == 0 ? query + " " + row : query + ", " + row
                    }
                    try await transaction.sql.raw(query).run()
                }
            }
        }
    }
}
