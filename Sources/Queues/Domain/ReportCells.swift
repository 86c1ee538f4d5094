import Foundation

/// How a report cell is split: the whole branch, or one hour of the day, service, counter or staff member.
public enum ReportDimension: String, Sendable, CaseIterable {
    case all, hour, service, queue, user
}

/// How long a report cell covers: one local day (`2026-03-29`) or one local month (`2026-03`). Every figure is kept
/// at both, so a year's report reads twelve months instead of 365 days.
public enum ReportSpan: String, Sendable, CaseIterable {
    case day, month
}

/// Where a figure is counted: a branch, a span of local time, a dimension and its member (the hour, or the
/// service's, counter's or staff member's id; 0 for `all`).
public struct ReportCellKey: Sendable, Hashable {
    public var branchID: BranchID
    public var span: ReportSpan
    public var period: String
    public var dimension: ReportDimension
    public var member: Int64
}

/// Durations (waits, service times) are counted in buckets, so that percentiles over any range can be added up from
/// the cells: whole seconds under two minutes, then ten seconds to ten minutes, a minute to an hour, five minutes to
/// four hours and half an hour beyond. A percentile is the lower bound of the bucket its rank falls in.
public enum DurationBuckets {
    /// (first second of the tier, its step in seconds), in order.
    static let tiers: [(start: Int64, step: Int64)] = [(0, 1), (120, 10), (600, 60), (3_600, 300), (14_400, 1_800)]
    /// The last bucket takes everything from a day on.
    static let lastStartSeconds: Int64 = 86_400

    /// The bucket of a duration in milliseconds (negative ones count as zero).
    public static func bucket(ofMilliseconds milliseconds: Int64) -> Int {
        let seconds = min(max(milliseconds, 0) / 1000, lastStartSeconds)
        var index = 0
        for (position, tier) in tiers.enumerated() {
            let end = position + 1 < tiers.count ? tiers[position + 1].start : lastStartSeconds + 1
            if seconds < end { return index + Int((seconds - tier.start) / tier.step) }
            index += Int((end - tier.start + tier.step - 1) / tier.step)
        }
        return index - 1
    }

    /// `12:3,40:1` for three durations in bucket 12 and one in bucket 40.
    public static func encode(_ counts: [Int: Int]) -> String {
        counts.keys.sorted().map { "\($0):\(counts[$0]!)" }.joined(separator: ",")
    }

    /// The counts `encode` wrote; a pair not of that form is left out. Read byte by byte: a year's report reads
    /// hundreds of thousands of pairs.
    public static func decode(_ text: String) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        var bucket = 0
        var count = 0
        var digits = 0
        var inCount = false
        var valid = true
        func finish() {
            if valid, inCount, digits > 0 { counts[bucket, default: 0] += count }
            (bucket, count, digits, inCount, valid) = (0, 0, 0, false, true)
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int(byte - UInt8(ascii: "0"))
                if inCount { count = count &* 10 &+ digit } else { bucket = bucket &* 10 &+ digit }
                digits += 1
            case UInt8(ascii: ":"):
                if inCount || digits == 0 { valid = false }
                inCount = true
                digits = 0
            case UInt8(ascii: ","):
                finish()
            default:
                valid = false
            }
        }
        finish()
        return counts
    }

    /// The shortest duration, in whole seconds, that falls in `bucket`.
    public static func lowerBoundSeconds(of bucket: Int) -> Int64 {
        var index = 0
        for (position, tier) in tiers.enumerated() {
            let end = position + 1 < tiers.count ? tiers[position + 1].start : lastStartSeconds + 1
            let count = Int((end - tier.start + tier.step - 1) / tier.step)
            if bucket < index + count { return tier.start + Int64(bucket - index) * tier.step }
            index += count
        }
        return lastStartSeconds
    }
}

/// The figures of one report cell. All of them add up across cells; the maxima take the larger.
public struct ReportFigures: Sendable, Equatable {
    public var issued = 0
    public var served = 0
    public var noShows = 0
    public var cancelled = 0
    public var expired = 0
    public var transfers = 0
    /// Tickets that were called: the count behind the waits.
    public var waited = 0
    public var waitSumMs: Int64 = 0
    public var waitMaxMs: Int64 = 0
    /// Called within their service's target wait.
    public var withinTarget = 0
    public var serviceSumMs: Int64 = 0
    public var serviceMaxMs: Int64 = 0
    /// How long counters were open.
    public var openMs: Int64 = 0
    /// How many ratings gave 1, 2, 3, 4 and 5 stars.
    public var ratings = [0, 0, 0, 0, 0]
    public var complaints = 0
    /// Waits and service times per duration bucket.
    public var waitBuckets: [Int: Int] = [:]
    public var serviceBuckets: [Int: Int] = [:]

    public init() {}

    public mutating func add(_ other: ReportFigures) {
        issued += other.issued
        served += other.served
        noShows += other.noShows
        cancelled += other.cancelled
        expired += other.expired
        transfers += other.transfers
        waited += other.waited
        waitSumMs += other.waitSumMs
        waitMaxMs = max(waitMaxMs, other.waitMaxMs)
        withinTarget += other.withinTarget
        serviceSumMs += other.serviceSumMs
        serviceMaxMs = max(serviceMaxMs, other.serviceMaxMs)
        openMs += other.openMs
        for star in 0..<5 { ratings[star] += other.ratings[star] }
        complaints += other.complaints
        waitBuckets.merge(other.waitBuckets, uniquingKeysWith: +)
        serviceBuckets.merge(other.serviceBuckets, uniquingKeysWith: +)
    }
}

/// What one ticket or counter event adds to the reports.
///
/// A ticket is counted under its issue's local day and hour. It counts as issued, under its service, when it is
/// issued; its outcome (served, no-show, cancelled, expired), its wait (from issue to the call that ended in the
/// outcome — a transferred ticket keeps its issue time) and its service time count once, when it ends, under the
/// service, counter and staff member it ended with; a transfer counts under the service, counter and staff member it
/// left. A counter's open time counts under the day it opened, when it pauses or closes. Nothing is ever taken back,
/// so any range adds up its cells.
public enum ReportContributions {
    /// A ticket's identity in the cells: its branch, issue day and hour, service, counter and staff member.
    public struct Place: Sendable, Equatable {
        public var branchID: BranchID
        public var day: String
        public var hour: Int
        public var serviceID: ServiceID
        public var queueID: QueueID?
        public var userID: StaffID?

        public init(branchID: BranchID, day: String, hour: Int, serviceID: ServiceID, queueID: QueueID?, userID: StaffID?) {
            (self.branchID, self.day, self.hour, self.serviceID, self.queueID, self.userID) = (branchID, day, hour, serviceID, queueID, userID)
        }

        /// The place of `ticket` at its service and counter, with `userID` acting.
        public init(_ ticket: Ticket, userID: StaffID?, timeZone: String) {
            let local = LocalTime.of(ticket.issuedAtMs, timeZone: timeZone)
            self.init(branchID: ticket.branchID, day: local.day, hour: local.hour, serviceID: ticket.serviceID, queueID: ticket.queueID, userID: userID)
        }

        /// The cells a figure at this place counts in: the whole branch, the hour, the service, and the counter and
        /// staff member when there are any, each for the day and for the month.
        public func keys() -> [ReportCellKey] {
            var members: [(ReportDimension, Int64)] = [(.all, 0), (.service, serviceID), (.hour, Int64(hour))]
            if let queueID { members.append((.queue, queueID)) }
            if let userID { members.append((.user, userID)) }
            return ReportContributions.keys(branchID: branchID, day: day, members: members)
        }
    }

    /// The cells of `members` (dimension and member) of a branch, for `day` and for its month.
    static func keys(branchID: BranchID, day: String, members: [(ReportDimension, Int64)]) -> [ReportCellKey] {
        members.flatMap { dimension, member in
            [
                ReportCellKey(branchID: branchID, span: .day, period: day, dimension: dimension, member: member),
                ReportCellKey(branchID: branchID, span: .month, period: String(day.prefix(7)), dimension: dimension, member: member),
            ]
        }
    }

    /// What `event` adds, with `actor` the staff member who caused it and `targetWaitSeconds` the target of the
    /// ticket's service (for the share called within it).
    public static func of(_ event: QueueEvent, actor: StaffID?, targetWaitSeconds: Int?, timeZone: String) -> [(ReportCellKey, ReportFigures)] {
        guard let ticket = event.ticket else { return [] }
        var figures = ReportFigures()
        var place = Place(ticket, userID: actor, timeZone: timeZone)
        switch event {
        case .ticketIssued:
            figures.issued = 1
            (place.queueID, place.userID) = (nil, nil)
        case .ticketTransferred(_, let fromService, let fromQueue):
            figures.transfers = 1
            (place.serviceID, place.queueID) = (fromService, fromQueue)
        case .ticketServed, .ticketNoShow, .ticketCancelled, .ticketExpired:
            guard !ticket.state.isActive else { return [] }
            figures = outcome(of: ticket, targetWaitSeconds: targetWaitSeconds)
            if case .ticketExpired = event { place.userID = nil }
        default:
            return []
        }
        return place.keys().map { ($0, figures) }
    }

    /// The outcome figures of a ticket that has ended.
    public static func outcome(of ticket: Ticket, targetWaitSeconds: Int?) -> ReportFigures {
        var figures = ReportFigures()
        switch ticket.state {
        case .served: figures.served = 1
        case .noShow: figures.noShows = 1
        case .cancelled: figures.cancelled = 1
        case .expired: figures.expired = 1
        default: return figures
        }
        if let called = ticket.calledAtMs {
            let wait = max(called - ticket.issuedAtMs, 0)
            figures.waited = 1
            figures.waitSumMs = wait
            figures.waitMaxMs = wait
            figures.waitBuckets = [DurationBuckets.bucket(ofMilliseconds: wait): 1]
            if let targetWaitSeconds, wait <= Int64(targetWaitSeconds) * 1000 { figures.withinTarget = 1 }
        }
        if ticket.state == .served, let started = ticket.startedAtMs ?? ticket.calledAtMs, let finished = ticket.finishedAtMs {
            let service = max(finished - started, 0)
            figures.serviceSumMs = service
            figures.serviceMaxMs = service
            figures.serviceBuckets = [DurationBuckets.bucket(ofMilliseconds: service): 1]
        }
        return figures
    }

    /// A rating (1–5) or a complaint about `ticket`, counted where its outcome was, with `userID` the staff member
    /// who served it.
    public static func feedback(on ticket: Ticket, userID: StaffID?, rating: Int?, complaint: Bool, timeZone: String) -> [(ReportCellKey, ReportFigures)] {
        var figures = ReportFigures()
        if let rating, (1...5).contains(rating) { figures.ratings[rating - 1] = 1 }
        if complaint { figures.complaints = 1 }
        return Place(ticket, userID: userID, timeZone: timeZone).keys().map { ($0, figures) }
    }

    /// A counter open from `openedAtMs` to `closedAtMs`, by `userID`: counted under the day it opened, for the
    /// branch, the counter and the staff member (not per hour or service).
    public static func openTime(
        branchID: BranchID,
        queueID: QueueID,
        userID: StaffID?,
        openedAtMs: Int64,
        closedAtMs: Int64,
        timeZone: String
    ) -> [(ReportCellKey, ReportFigures)] {
        var figures = ReportFigures()
        figures.openMs = max(closedAtMs - openedAtMs, 0)
        let day = LocalTime.of(openedAtMs, timeZone: timeZone).day
        let members: [(ReportDimension, Int64)] = [(.all, 0), (.queue, queueID)] + (userID.map { [(.user, $0)] } ?? [])
        return keys(branchID: branchID, day: day, members: members).map { ($0, figures) }
    }

    /// Adds up contributions per cell.
    public static func merged(_ contributions: [(ReportCellKey, ReportFigures)]) -> [ReportCellKey: ReportFigures] {
        var cells: [ReportCellKey: ReportFigures] = [:]
        for (key, figures) in contributions { cells[key, default: ReportFigures()].add(figures) }
        return cells
    }
}

/// A local day and hour of an instant in a time zone.
public enum LocalTime {
    /// `("2026-03-29", 14)` for `milliseconds` in `timeZone` (an IANA name; unknown names fall back to UTC).
    public static func of(_ milliseconds: Int64, timeZone: String) -> (day: String, hour: Int) {
        let parts = LocalClock.calendar(timeZone).dateComponents([.year, .month, .day, .hour], from: Date(milliseconds: milliseconds))
        return (String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!), parts.hour!)
    }
}
