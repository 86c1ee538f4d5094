import TurnoCore

public typealias ShiftTemplateID = Int64
public typealias ShiftAssignmentID = Int64
public typealias AbsenceID = Int64
public typealias ShiftSwapID = Int64

/// A kind of shift a branch works: "Morning 08:00–14:00, Monday to Friday".
public struct ShiftTemplate: Sendable, Equatable {
    public var id: ShiftTemplateID
    public var branchID: BranchID
    public var name: String
    public var hours: TimeRange
    public var weekdays: Set<Weekday>

    public init(id: ShiftTemplateID, branchID: BranchID, name: String, hours: TimeRange, weekdays: Set<Weekday>) {
        self.id = id
        self.branchID = branchID
        self.name = name
        self.hours = hours
        self.weekdays = weekdays
    }
}

/// A staff member working a template's shift at a counter on its weekdays from `firstDate` to `lastDate` (open-ended
/// when nil). One date, first and last the same, is a one-off.
public struct ShiftAssignment: Sendable, Equatable {
    public var id: ShiftAssignmentID
    public var branchID: BranchID
    public var templateID: ShiftTemplateID
    public var userID: StaffID
    public var queueID: QueueID
    public var firstDate: LocalDate
    public var lastDate: LocalDate?

    public init(
        id: ShiftAssignmentID,
        branchID: BranchID,
        templateID: ShiftTemplateID,
        userID: StaffID,
        queueID: QueueID,
        firstDate: LocalDate,
        lastDate: LocalDate?
    ) {
        self.id = id
        self.branchID = branchID
        self.templateID = templateID
        self.userID = userID
        self.queueID = queueID
        self.firstDate = firstDate
        self.lastDate = lastDate
    }

    public func covers(_ date: LocalDate) -> Bool { firstDate <= date && lastDate.map { date <= $0 } ?? true }
}

/// A staff member away from `firstDate` to `lastDate`, both included: their shifts on those days are not worked,
/// unless a colleague covers them (a swap).
public struct Absence: Sendable, Equatable {
    public var id: AbsenceID
    public var branchID: BranchID
    public var userID: StaffID
    public var firstDate: LocalDate
    public var lastDate: LocalDate
    public var reason: String

    public init(id: AbsenceID, branchID: BranchID, userID: StaffID, firstDate: LocalDate, lastDate: LocalDate, reason: String) {
        self.id = id
        self.branchID = branchID
        self.userID = userID
        self.firstDate = firstDate
        self.lastDate = lastDate
        self.reason = reason
    }

    public func covers(_ date: LocalDate) -> Bool { firstDate <= date && date <= lastDate }
}

/// A colleague working one date's shift of an assignment instead of its staff member.
public struct ShiftSwap: Sendable, Equatable {
    public var id: ShiftSwapID
    public var branchID: BranchID
    public var assignmentID: ShiftAssignmentID
    public var date: LocalDate
    public var substituteID: StaffID

    public init(id: ShiftSwapID, branchID: BranchID, assignmentID: ShiftAssignmentID, date: LocalDate, substituteID: StaffID) {
        self.id = id
        self.branchID = branchID
        self.assignmentID = assignmentID
        self.date = date
        self.substituteID = substituteID
    }
}

/// One shift on one date: who works which counter from when to when, in real time.
public struct Shift: Sendable, Equatable {
    public var assignmentID: ShiftAssignmentID
    public var templateID: ShiftTemplateID
    public var date: LocalDate
    public var hours: TimeRange
    public var userID: StaffID
    public var queueID: QueueID
    public var startMs: Int64
    public var endMs: Int64
    /// Whose shift it was, when a colleague works it instead.
    public var swappedFrom: StaffID?

    public func covers(_ instantMs: Int64) -> Bool { startMs <= instantMs && instantMs < endMs }
    public func overlaps(_ other: Shift) -> Bool { startMs < other.endMs && other.startMs < endMs }
}

/// A branch's plan of who works when: its templates, assignments, absences and swaps, and the rules they keep.
public struct Roster: Sendable, Equatable {
    public var templates: [ShiftTemplate]
    public var assignments: [ShiftAssignment]
    public var absences: [Absence]
    public var swaps: [ShiftSwap]

    /// How far an open-ended assignment is planned ahead for conflict checks: its pattern repeats every week.
    static let weekDays = 7

    public init(templates: [ShiftTemplate] = [], assignments: [ShiftAssignment] = [], absences: [Absence] = [], swaps: [ShiftSwap] = []) {
        self.templates = templates
        self.assignments = assignments
        self.absences = absences
        self.swaps = swaps
    }

    /// The shifts worked from `first` to `last` (both included), in time order: each assignment on its template's
    /// weekdays, not on days the branch is closed (a holiday), not by an absent staff member unless a colleague
    /// covers it. Instants are in `timeZone`, so a shift on the day the clocks change lasts what the clocks say.
    public func shifts(from first: LocalDate, through last: LocalDate, hours: OpeningHours?, timeZone: String) -> [Shift] {
        guard first <= last else { return [] }
        let templates = Dictionary(uniqueKeysWithValues: self.templates.map { ($0.id, $0) })
        let swaps = Dictionary(self.swaps.map { (SwapKey(assignment: $0.assignmentID, date: $0.date), $0) }, uniquingKeysWith: { first, _ in first })
        var result: [Shift] = []
        for assignment in assignments {
            guard let template = templates[assignment.templateID] else { continue }
            let start = max(first, assignment.firstDate)
            let end = min(last, assignment.lastDate ?? last)
            guard start <= end else { continue }
            for offset in 0...(end.daysSinceEpoch - start.daysSinceEpoch) {
                let date = start.adding(days: offset)
                guard template.weekdays.contains(date.weekday) else { continue }
                if let hours, hours.specialDay(date) != nil, hours.hours(on: date).isEmpty { continue }
                var worker = assignment.userID
                var swappedFrom: StaffID?
                if let swap = swaps[SwapKey(assignment: assignment.id, date: date)] {
                    (worker, swappedFrom) = (swap.substituteID, assignment.userID)
                }
                if absences.contains(where: { $0.userID == worker && $0.covers(date) }) { continue }
                result.append(
                    Shift(
                        assignmentID: assignment.id,
                        templateID: template.id,
                        date: date,
                        hours: template.hours,
                        userID: worker,
                        queueID: assignment.queueID,
                        startMs: LocalClock.instant(date, template.hours.from, timeZone: timeZone),
                        endMs: LocalClock.instant(date, template.hours.to, timeZone: timeZone),
                        swappedFrom: swappedFrom
                    )
                )
            }
        }
        return result.sorted { ($0.startMs, $0.queueID, $0.userID) < ($1.startMs, $1.queueID, $1.userID) }
    }

    private struct SwapKey: Hashable {
        var assignment: ShiftAssignmentID
        var date: LocalDate
    }

    /// Checks a new template: a name, hours that start before they end, at least one weekday, and, if the branch
    /// has opening hours, within them (from 30 minutes before the day's first opening to 30 minutes after its last
    /// closing, for setting up and finishing) on each of its weekdays.
    public static func check(_ template: ShiftTemplate, hours: OpeningHours?) throws(ScheduleRuleViolation) {
        let name = template.name.trimmingCharacters(in: .whitespacesAndNewlines)
        // Lengths count code points, as the API document's maxLength does.
        guard (1...60).contains(name.unicodeScalars.count) else { throw .badName(field: "name") }
        guard template.hours.from < template.hours.to else { throw .emptyRange(day: "the shift", range: template.hours.description) }
        guard !template.weekdays.isEmpty else { throw .noWeekdays }
        guard let hours else { return }
        for weekday in Weekday.allCases.filter(template.weekdays.contains) {
            let ranges = hours.week[weekday] ?? []
            guard let opens = ranges.map(\.from.minutes).min(), let closes = ranges.map(\.to.minutes).max() else {
                throw .shiftOnClosedDay(shift: name, weekday: weekday.rawValue)
            }
            if template.hours.from.minutes < opens - 30 || template.hours.to.minutes > closes + 30 {
                throw .shiftOutsideHours(
                    shift: name,
                    hours: template.hours.description,
                    weekday: weekday.rawValue,
                    open: "\(ranges.sorted { $0.from < $1.from }.map(\.description).joined(separator: ", "))"
                )
            }
        }
    }

    /// Checks a new assignment against the roster: its template is the branch's, its dates are in order, and its
    /// staff member works no other shift at the same time (at any counter of this branch).
    public func check(_ assignment: ShiftAssignment) throws(ScheduleRuleViolation) {
        guard let template = templates.first(where: { $0.id == assignment.templateID }) else { throw .unknownTemplate(assignment.templateID) }
        if let last = assignment.lastDate, last < assignment.firstDate { throw .datesOutOfOrder }
        for other in assignments where other.userID == assignment.userID {
            guard let otherTemplate = templates.first(where: { $0.id == other.templateID }) else { continue }
            // Weekly patterns: the first week of the two date ranges' overlap shows every clash.
            let first = max(assignment.firstDate, other.firstDate)
            let last = [assignment.lastDate, other.lastDate, first.adding(days: Self.weekDays - 1)].compactMap { $0 }.min()!
            guard first <= last else { continue }
            for offset in 0...(last.daysSinceEpoch - first.daysSinceEpoch) {
                let date = first.adding(days: offset)
                if template.weekdays.contains(date.weekday), otherTemplate.weekdays.contains(date.weekday), template.hours.overlaps(otherTemplate.hours) {
                    throw .doubleBooked(user: assignment.userID, date: date.description, shift: otherTemplate.name, hours: otherTemplate.hours.description)
                }
            }
        }
        // The days the same person covers a colleague's shift.
        for swap in swaps where swap.substituteID == assignment.userID && assignment.covers(swap.date) && template.weekdays.contains(swap.date.weekday) {
            guard let covered = assignments.first(where: { $0.id == swap.assignmentID }),
                let coveredTemplate = templates.first(where: { $0.id == covered.templateID }),
                coveredTemplate.hours.overlaps(template.hours)
            else { continue }
            throw .doubleBooked(user: assignment.userID, date: swap.date.description, shift: coveredTemplate.name, hours: coveredTemplate.hours.description)
        }
    }

    /// Checks a swap: the assignment has a shift that date, and the substitute is not its own staff member, not away,
    /// and not working another shift at the same time.
    public func check(_ swap: ShiftSwap, hours: OpeningHours?, timeZone: String) throws(ScheduleRuleViolation) {
        guard let assignment = assignments.first(where: { $0.id == swap.assignmentID }) else { throw .unknownAssignment(swap.assignmentID) }
        guard swap.substituteID != assignment.userID else { throw .swapWithSelf }
        guard !swaps.contains(where: { $0.assignmentID == swap.assignmentID && $0.date == swap.date }) else {
            throw .alreadySwapped(date: swap.date.description)
        }
        // The shift as planned, whether or not its own staff member is away (that is when swaps are made).
        let planned = Roster(templates: templates, assignments: [assignment]).shifts(from: swap.date, through: swap.date, hours: hours, timeZone: timeZone)
        guard let shift = planned.first else { throw .noShiftThatDay(date: swap.date.description) }
        if absences.contains(where: { $0.userID == swap.substituteID && $0.covers(swap.date) }) {
            throw .substituteAway(user: swap.substituteID, date: swap.date.description)
        }
        let theirs = shifts(from: swap.date, through: swap.date, hours: hours, timeZone: timeZone).filter { $0.userID == swap.substituteID }
        if let clash = theirs.first(where: { $0.overlaps(shift) }) {
            let name = templates.first { $0.id == clash.templateID }?.name ?? "another shift"
            throw .doubleBooked(user: swap.substituteID, date: swap.date.description, shift: name, hours: clash.hours.description)
        }
    }

    /// Checks an absence: its dates are in order and at most a year long, and its reason at most 200 characters.
    public static func check(_ absence: Absence) throws(ScheduleRuleViolation) {
        guard absence.firstDate <= absence.lastDate else { throw .datesOutOfOrder }
        guard absence.lastDate.daysSinceEpoch - absence.firstDate.daysSinceEpoch < 366 else { throw .absenceTooLong }
        guard absence.reason.unicodeScalars.count <= 200 else { throw .badName(field: "reason") }
    }

    /// The distinct counters worked during each 30-minute slot from `first` for `days` days: the slot's start in
    /// real time, and how many counters have somebody on a shift for the whole of it or part of it.
    public static func countersPerSlot(_ shifts: [Shift], slots: [Int64], slotMs: Int64 = 1_800_000) -> [Int] {
        slots.map { start in
            Set(shifts.filter { $0.startMs < start + slotMs && start < $0.endMs }.map(\.queueID)).count
        }
    }
}

/// A schedule rule violation told with the staff members' names (`ScheduleCommands` throws these).
public struct NamedScheduleViolation: RuleViolation {
    public let violation: ScheduleRuleViolation
    public let detail: String
    public var kind: RuleViolationKind { violation.kind }

    public init(_ violation: ScheduleRuleViolation, naming name: (StaffID) -> String?) {
        self.violation = violation
        self.detail = violation.detail(naming: name)
    }
}

/// A rule of opening hours and shifts a change would break.
public enum ScheduleRuleViolation: RuleViolation, Equatable {
    case unknownTemplate(ShiftTemplateID)
    case unknownAssignment(ShiftAssignmentID)
    case unknownAbsence(AbsenceID)
    case unknownSwap(ShiftSwapID)
    case emptyRange(day: String, range: String)
    case overlappingHours(day: String, first: String, second: String)
    case tooManyRanges(day: String, limit: Int)
    case tooManySpecialDays(limit: Int)
    case specialDayTwice(String)
    case badName(field: String)
    case lastTicketOutOfRange(Int)
    case noWeekdays
    case shiftOnClosedDay(shift: String, weekday: String)
    case shiftOutsideHours(shift: String, hours: String, weekday: String, open: String)
    case datesOutOfOrder
    case absenceTooLong
    case doubleBooked(user: StaffID, date: String, shift: String, hours: String)
    case notOfBranch(user: StaffID)
    case mayNotWorkCounter(user: StaffID, counter: String)
    case swapWithSelf
    case alreadySwapped(date: String)
    case noShiftThatDay(date: String)
    case substituteAway(user: StaffID, date: String)
    case templateInUse(ShiftTemplateID, assignments: Int)
    case badQuery(String)

    public var kind: RuleViolationKind {
        switch self {
        case .unknownTemplate, .unknownAssignment, .unknownAbsence, .unknownSwap: .notFound
        case .doubleBooked, .alreadySwapped, .templateInUse, .substituteAway: .conflict
        default: .invalid
        }
    }

    public var detail: String { detail(naming: { _ in nil }) }

    /// The detail with staff members called by `name` (their username) where it knows them, else by id.
    public func detail(naming name: (StaffID) -> String?) -> String {
        func who(_ id: StaffID) -> String { name(id).map { "\($0) (staff member \(id))" } ?? "staff member \(id)" }
        return switch self {
        case .unknownTemplate(let id): "there is no shift template \(id) at this branch"
        case .unknownAssignment(let id): "there is no shift assignment \(id) at this branch"
        case .unknownAbsence(let id): "there is no absence \(id) at this branch"
        case .unknownSwap(let id): "there is no swap \(id) at this branch"
        case .emptyRange(let day, let range): "\(day): \(range) must start before it ends (nothing runs past midnight)"
        case .overlappingHours(let day, let first, let second): "\(day): \(first) and \(second) overlap"
        case .tooManyRanges(let day, let limit): "\(day): at most \(limit) opening ranges a day"
        case .tooManySpecialDays(let limit): "at most \(limit) special days; remove past ones first"
        case .specialDayTwice(let date): "\(date) is listed twice among the special days"
        case .badName(let field) where field == "reason": "`reason` may be at most 200 characters"
        case .badName(let field): "`\(field)` must be 1 to \(field == "name" ? 60 : 100) characters"
        case .lastTicketOutOfRange(let minutes): "`last_ticket_minutes` must be 0 to 240, got \(minutes)"
        case .noWeekdays: "`weekdays` must name at least one day (mon, tue, wed, thu, fri, sat, sun)"
        case .shiftOnClosedDay(let shift, let weekday): "\(shift) falls on \(weekday), when the branch is closed"
        case .shiftOutsideHours(let shift, let hours, let weekday, let open):
            "\(shift) (\(hours)) is outside the opening hours of \(weekday) (\(open), with 30 minutes either side to set up and finish)"
        case .datesOutOfOrder: "`last_date` must not be before `first_date`"
        case .absenceTooLong: "an absence may last at most a year"
        case .doubleBooked(let user, let date, let shift, let hours):
            "\(who(user)) already works \(shift) (\(hours)) on \(date): one person cannot be at two counters at once"
        case .notOfBranch(let user): "\(who(user)) does not work at this branch"
        case .mayNotWorkCounter(let user, let counter):
            "\(who(user)) may not work counter \(counter): add them to its operators first, or choose a manager of the branch"
        case .swapWithSelf: "the substitute is the shift's own staff member"
        case .alreadySwapped(let date): "this shift already has a substitute on \(date); remove that swap first"
        case .noShiftThatDay(let date): "the assignment has no shift on \(date)"
        case .substituteAway(let user, let date): "\(who(user)) is away on \(date)"
        case .templateInUse(let id, let count): "shift template \(id) is used by \(count) assignments; end or remove them first"
        case .badQuery(let detail): detail
        }
    }
}
