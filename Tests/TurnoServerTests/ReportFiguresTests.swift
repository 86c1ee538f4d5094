import Foundation
import Testing
import TurnoCore

@testable import Queues

/// Every figure of a report, read from the cells the store keeps, equals the same figure worked out from the raw
/// tickets by brute force: random days of a branch in Europe/Rome, the two days its clocks change among them.
@Suite("Reports: the cells add up to what the raw tickets say")
struct ReportFiguresTests {
    static let timeZone = "Europe/Rome"
    static let targets: [ServiceID: Int] = [1: 300, 2: 600, 3: 900]

    /// A ticket as it ended, with who ended it, its rating and whether a complaint was made.
    struct RawTicket {
        var ticket: Ticket
        var issuedService: ServiceID
        var userID: StaffID?
        var rating: Int?
        var complaint: Bool
        var transferredFrom: (service: ServiceID, queue: QueueID?, by: StaffID)?
    }

    struct OpenSpan {
        var queueID: QueueID
        var userID: StaffID
        var openedAtMs: Int64
        var closedAtMs: Int64
    }

    /// Midnight of a local day in Rome, in milliseconds since 1970.
    static func midnight(_ day: String) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone)!
        let parts = day.split(separator: "-").map { Int($0)! }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!.milliseconds
    }

    static func local(_ milliseconds: Int64) -> (day: String, hour: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour], from: Date(milliseconds: milliseconds))
        return (String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!), parts.hour!)
    }

    /// A duration floored to the resolution reports keep, written out tier by tier.
    static func quantised(_ milliseconds: Int64) -> Int64 {
        let s = max(milliseconds, 0) / 1000
        switch s {
        case ..<120: return s
        case ..<600: return s / 10 * 10
        case ..<3_600: return s / 60 * 60
        case ..<14_400: return s / 300 * 300
        case ..<86_400: return 14_400 + (s - 14_400) / 1_800 * 1_800
        default: return 86_400
        }
    }

    static func nearestRank(_ p: Double, _ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[max(Int((p * Double(sorted.count)).rounded(.up)), 1) - 1]
    }

    /// Random tickets on `days`, each ending one way or another.
    static func tickets(on days: [String], count: Int, using random: inout some RandomNumberGenerator) -> [RawTicket] {
        (0..<count).map { index in
            let day = days.randomElement(using: &random)!
            let start = midnight(day)
            let length = midnight(CalendarDays.adding(1, to: day)!) - start
            let issued = start + Int64.random(in: 0..<length, using: &random)
            let service = ServiceID.random(in: 1...3, using: &random)
            var ticket = Ticket(
                id: TicketID(index + 1),
                branchID: 1,
                token: "t\(index)",
                number: TicketNumber(prefix: "A", sequence: index + 1),
                serviceID: service,
                queueID: QueueID.random(in: 1...3, using: &random),
                customerClass: .regular,
                channel: .kiosk,
                state: .waiting,
                issuedAtMs: issued
            )
            var raw = RawTicket(ticket: ticket, issuedService: service, userID: StaffID.random(in: 10...12, using: &random), rating: nil, complaint: false)
            if Int.random(in: 0..<5, using: &random) == 0 {
                raw.transferredFrom = (
                    ServiceID.random(in: 1...3, using: &random), QueueID.random(in: 1...3, using: &random), StaffID.random(in: 10...12, using: &random)
                )
                ticket.serviceID = ServiceID.random(in: 1...3, using: &random)
            }
            let called = issued + Int64.random(in: 0...5_400_000, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:
                ticket.state = .served
                ticket.calledAtMs = called
                ticket.startedAtMs = Bool.random(using: &random) ? called + Int64.random(in: 0...60_000, using: &random) : nil
                ticket.finishedAtMs =
                    (ticket.startedAtMs ?? called) + Int64.random(in: 0...(Bool.random(using: &random) ? 600_000 : 20_000_000), using: &random)
                if Bool.random(using: &random) { raw.rating = Int.random(in: 1...5, using: &random) }
            case 6:
                ticket.state = .noShow
                ticket.calledAtMs = called
                ticket.finishedAtMs = called + 180_000
            case 7, 8:
                ticket.state = .cancelled
                ticket.calledAtMs = Bool.random(using: &random) ? called : nil
                ticket.finishedAtMs = (ticket.calledAtMs ?? issued) + 1_000
                if Bool.random(using: &random) { raw.userID = nil }
            default:
                ticket.state = .expired
                ticket.finishedAtMs = issued + 3_600_000
                raw.userID = nil
            }
            if Int.random(in: 0..<8, using: &random) == 0 { raw.complaint = true }
            raw.ticket = ticket
            return raw
        }
    }

    /// What the store is told as these tickets live their lives.
    static func contributions(_ raw: RawTicket) -> [(ReportCellKey, ReportFigures)] {
        var issuedTicket = raw.ticket
        issuedTicket.serviceID = raw.issuedService
        issuedTicket.state = .waiting
        var all = ReportContributions.of(.ticketIssued(issuedTicket), actor: nil, targetWaitSeconds: nil, timeZone: timeZone)
        if let from = raw.transferredFrom {
            all += ReportContributions.of(
                .ticketTransferred(raw.ticket, fromService: from.service, fromQueue: from.queue),
                actor: from.by,
                targetWaitSeconds: nil,
                timeZone: timeZone
            )
        }
        let ending: QueueEvent =
            switch raw.ticket.state {
            case .served: .ticketServed(raw.ticket)
            case .noShow: .ticketNoShow(raw.ticket)
            case .cancelled: .ticketCancelled(raw.ticket)
            default: .ticketExpired(raw.ticket)
            }
        all += ReportContributions.of(ending, actor: raw.userID, targetWaitSeconds: targets[raw.ticket.serviceID], timeZone: timeZone)
        if raw.rating != nil || raw.complaint {
            all += ReportContributions.feedback(on: raw.ticket, userID: raw.userID, rating: raw.rating, complaint: raw.complaint, timeZone: timeZone)
        }
        return all
    }

    /// The report row `key` of `grouping` worked out from the raw tickets and open spans alone.
    static func bruteForce(_ raws: [RawTicket], spans: [OpenSpan], from: String, to: String, grouping: ReportGrouping, key: String) -> ReportSummary {
        func row(_ ticket: Ticket, service: ServiceID, queue: QueueID?, user: StaffID?) -> String? {
            let (day, hour) = local(ticket.issuedAtMs)
            guard day >= from, day <= to else { return nil }
            switch grouping {
            case .day: return day
            case .weekday: return String(CalendarDays.isoWeekday(of: day)!)
            case .hour: return String(hour)
            case .service: return String(service)
            case .counter: return queue.map(String.init)
            case .operator: return user.map(String.init)
            }
        }
        var figures = ReportFigures()
        var waits: [Int64] = []
        var services: [Int64] = []
        for raw in raws {
            let ticket = raw.ticket
            if row(ticket, service: raw.issuedService, queue: nil, user: nil) == key, grouping != .counter, grouping != .operator { figures.issued += 1 }
            if let from = raw.transferredFrom, row(ticket, service: from.service, queue: from.queue, user: from.by) == key { figures.transfers += 1 }
            guard row(ticket, service: ticket.serviceID, queue: ticket.queueID, user: raw.userID) == key else { continue }
            switch ticket.state {
            case .served: figures.served += 1
            case .noShow: figures.noShows += 1
            case .cancelled: figures.cancelled += 1
            default: figures.expired += 1
            }
            if let called = ticket.calledAtMs {
                let wait = called - ticket.issuedAtMs
                waits.append(wait)
                figures.waited += 1
                figures.waitMaxMs = max(figures.waitMaxMs, wait)
                if wait <= Int64(targets[ticket.serviceID]!) * 1000 { figures.withinTarget += 1 }
            }
            if ticket.state == .served {
                let service = ticket.finishedAtMs! - (ticket.startedAtMs ?? ticket.calledAtMs!)
                services.append(service)
                figures.serviceSumMs += service
                figures.serviceMaxMs = max(figures.serviceMaxMs, service)
            }
            if let rating = raw.rating { figures.ratings[rating - 1] += 1 }
            if raw.complaint { figures.complaints += 1 }
        }
        if grouping != .hour, grouping != .service {
            for span in spans {
                let day = local(span.openedAtMs).day
                guard day >= from, day <= to else { continue }
                let spanKey: String? =
                    switch grouping {
                    case .day: day
                    case .weekday: String(CalendarDays.isoWeekday(of: day)!)
                    case .counter: String(span.queueID)
                    case .operator: String(span.userID)
                    default: nil
                    }
                if spanKey == key { figures.openMs += span.closedAtMs - span.openedAtMs }
            }
        }
        var summary = ReportSummary(figures)
        summary.waitP50Seconds = nearestRank(0.5, waits.map(quantised))
        summary.waitP90Seconds = nearestRank(0.9, waits.map(quantised))
        summary.serviceP50Seconds = nearestRank(0.5, services.map(quantised))
        summary.serviceP90Seconds = nearestRank(0.9, services.map(quantised))
        return summary
    }

    @Test("random days, DST changes among them: every figure of every grouping equals a brute-force recount", arguments: TestDatabase.available)
    func cellsEqualBruteForce(database: TestDatabase) async throws {
        var random = SeededRandom(seed: 20_261_201)
        // Both of 2026's clock changes in Rome, the days around them, and days spread over two years.
        var days = ["2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26", "2026-12-31", "2027-01-01"]
        for _ in 0..<12 { days.append(CalendarDays.adding(Int.random(in: 0..<700, using: &random), to: "2026-01-01")!) }
        let raws = Self.tickets(on: days, count: 600, using: &random)
        let spans = (0..<40).map { _ in
            let opened = Self.midnight(days.randomElement(using: &random)!) + Int64.random(in: 0..<86_400_000, using: &random)
            return OpenSpan(
                queueID: QueueID.random(in: 1...3, using: &random),
                userID: StaffID.random(in: 10...12, using: &random),
                openedAtMs: opened,
                closedAtMs: opened + Int64.random(in: 0...36_000_000, using: &random)
            )
        }
        try await withTestServer(database) { server in
            let store = QueueStore(storage: server.storage)
            for raw in raws {
                try await server.storage.write { transaction in try await store.addToReports(Self.contributions(raw), in: transaction) }
            }
            for span in spans {
                let figures = ReportContributions.openTime(
                    branchID: 1,
                    queueID: span.queueID,
                    userID: span.userID,
                    openedAtMs: span.openedAtMs,
                    closedAtMs: span.closedAtMs,
                    timeZone: Self.timeZone
                )
                try await server.storage.write { transaction in try await store.addToReports(figures, in: transaction) }
            }
            let ranges = [
                ("2026-03-29", "2026-03-29"), ("2026-10-25", "2026-10-25"), ("2026-03-15", "2026-04-10"), ("2026-01-01", "2026-12-31"),
                ("2026-02-01", "2026-02-28"), ("2026-10-20", "2027-01-05"), ("2026-01-01", "2027-12-31"),
            ]
            for (from, to) in ranges {
                for grouping in ReportGrouping.allCases {
                    let cells = try await store.reportFigures(
                        of: [1],
                        from: from,
                        to: to,
                        dimension: grouping.dimension,
                        member: nil,
                        byDay: grouping.needsDays
                    )
                    var rows: [String: ReportFigures] = [:]
                    for (key, figures) in cells { rows[grouping.rowKey(cellKey: key), default: ReportFigures()].add(figures) }
                    let expectedKeys = Set(
                        raws.flatMap { raw -> [String] in
                            let (day, hour) = Self.local(raw.ticket.issuedAtMs)
                            guard day >= from, day <= to else { return [] }
                            switch grouping {
                            case .day: return [day]
                            case .weekday: return [String(CalendarDays.isoWeekday(of: day)!)]
                            case .hour: return [String(hour)]
                            case .service:
                                return [raw.issuedService, raw.ticket.serviceID].map(String.init) + (raw.transferredFrom.map { [String($0.service)] } ?? [])
                            case .counter: return [raw.ticket.queueID, raw.transferredFrom?.queue].compactMap { $0 }.map(String.init)
                            case .operator: return [raw.userID, raw.transferredFrom?.by].compactMap { $0 }.map(String.init)
                            }
                        }
                    )
                    let ticketRows = Set(rows.filter { $0.value != Self.onlyOpenTime($0.value) }.keys)
                    #expect(ticketRows == expectedKeys, "rows of \(grouping) from \(from) to \(to)")
                    for key in Set(rows.keys).union(expectedKeys) {
                        let kept = ReportSummary(rows[key] ?? ReportFigures())
                        let recounted = Self.bruteForce(raws, spans: spans, from: from, to: to, grouping: grouping, key: key)
                        #expect(kept == recounted, "\(grouping) \(key) from \(from) to \(to)")
                    }
                }
            }
        }
    }

    /// The figures of a cell that only ever counted open time.
    static func onlyOpenTime(_ figures: ReportFigures) -> ReportFigures {
        var only = ReportFigures()
        only.openMs = figures.openMs
        return only
    }

    @Test("durations fall in buckets whose lower bounds are the floors of each tier")
    func buckets() {
        for seconds in Array(0...4_000) + [14_399, 14_400, 14_401, 16_199, 16_200, 86_399, 86_400, 100_000, 10_000_000] {
            let bucket = DurationBuckets.bucket(ofMilliseconds: Int64(seconds) * 1000 + 999)
            #expect(DurationBuckets.lowerBoundSeconds(of: bucket) == Self.quantised(Int64(seconds) * 1000), "\(seconds) s")
        }
        #expect(DurationBuckets.bucket(ofMilliseconds: -5) == 0)
    }

    @Test("bucket counts survive their text form; malformed pairs are left out")
    func bucketText() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<200 {
            var counts: [Int: Int] = [:]
            for _ in 0..<Int.random(in: 0..<50, using: &random) {
                counts[Int.random(in: 0..<295, using: &random), default: 0] += Int.random(in: 1..<5_000, using: &random)
            }
            #expect(DurationBuckets.decode(DurationBuckets.encode(counts)) == counts)
        }
        #expect(DurationBuckets.decode("3:4,x:1,5:,:2,7:8:9,12:1") == [3: 4, 12: 1])
        #expect(DurationBuckets.decode("") == [:])
    }

    @Test("a range is covered by whole months and the days at either end, nothing twice")
    func cover() {
        #expect(CalendarDays.cover(from: "2026-01-01", to: "2026-12-31").months.count == 12)
        #expect(CalendarDays.cover(from: "2026-01-01", to: "2026-12-31").days.isEmpty)
        let middle = CalendarDays.cover(from: "2026-01-15", to: "2026-03-10")
        #expect(middle.months == ["2026-02"])
        #expect(middle.days == ["2026-01-15"..."2026-01-31", "2026-03-01"..."2026-03-10"])
        #expect(CalendarDays.cover(from: "2026-02-10", to: "2026-02-10").days == ["2026-02-10"..."2026-02-10"])
        #expect(CalendarDays.cover(from: "2026-01-20", to: "2026-02-05").days == ["2026-01-20"..."2026-02-05"])
        #expect(CalendarDays.cover(from: "2024-02-01", to: "2024-02-29").months == ["2024-02"])
        #expect(CalendarDays.cover(from: "2024-02-01", to: "2024-02-28").days == ["2024-02-01"..."2024-02-28"])
    }
}
