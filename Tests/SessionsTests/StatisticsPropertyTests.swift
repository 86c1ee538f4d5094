import Foundation
import Testing

@testable import Sessions

/// Statistics of seeded random sessions compared with the same figures worked out session by session, with
/// Foundation's calendar (not `LocalDate`) deciding local days, Mondays and months.
@Suite("Sessions statistics: properties")
struct StatisticsPropertyTests {
    static let seeds: [UInt64] = Array(1...150)

    /// Checks `statistics` against the session-by-session figures of `scenario`.
    static func check(_ statistics: Statistics, _ scenario: Scenario, _ label: String) {
        let expected = ExpectedStatistics(scenario)
        let context = Comment(rawValue: "\(label): \(scenario)")

        // Totals and the per-sport breakdown equal brute-force sums, and the breakdown adds up to the totals.
        #expect(expected.totals.matches(statistics.totals), context)
        #expect(Set(statistics.bySport.keys) == Set(expected.bySport.keys), context)
        for (sport, sums) in expected.bySport {
            #expect(statistics.bySport[sport].map(sums.matches) == true, "\(sport) \(context)")
        }
        var sportSum = ExpectedStatistics.Sums()
        for totals in statistics.bySport.values {
            sportSum.count += totals.count
            sportSum.durationS += totals.durationS
            sportSum.distanceM += totals.distanceM
            sportSum.caloriesKcal += totals.caloriesKcal
            sportSum.elevationGainM += totals.elevationGainM
        }
        #expect(sportSum.matches(statistics.totals), context)

        // The series: one point per bucket touching the range, in order, none missing, zero-filled, adding up.
        #expect(statistics.series.map(\.start) == expected.bucketStarts.map(Civil.text(of:)), context)
        #expect(statistics.series.first.map { LocalDate($0.start)!.dayNumber <= scenario.first } == true, context)
        #expect(statistics.series.last.map { LocalDate($0.start)!.dayNumber <= scenario.last } == true, context)
        for (point, start) in zip(statistics.series, expected.bucketStarts) {
            #expect((expected.buckets[start] ?? ExpectedStatistics.Sums()).matches(point.totals), "\(point.start) \(context)")
            #expect(close(point.heartRateBpm, expected.bucketHeartRate[start]), "\(point.start) \(context)")
        }
        var seriesSum = ExpectedStatistics.Sums()
        for point in statistics.series {
            seriesSum.count += point.totals.count
            seriesSum.durationS += point.totals.durationS
            seriesSum.distanceM += point.totals.distanceM
            seriesSum.caloriesKcal += point.totals.caloriesKcal
            seriesSum.elevationGainM += point.totals.elevationGainM
        }
        #expect(seriesSum.matches(statistics.totals), context)

        // Averages.
        #expect(close(statistics.heartRateBpm, expected.heartRate), context)
        #expect(close(statistics.speedKmh, expected.speedKmh), context)
        #expect(close(statistics.paceSPerKm, expected.paceSPerKm), context)

        // Bests: the value is the maximum, and a session of that sport on that local day has it.
        #expect(statistics.longestDuration?.value == expected.longestDurationS.map(Double.init), context)
        if let best = statistics.longestDuration {
            #expect(
                expected.sessions.contains { $0.day == best.day.dayNumber && $0.session.sport == best.sport && Double($0.session.durationS) == best.value },
                context
            )
        }
        #expect(statistics.longestDistance?.value == expected.longestDistanceM, context)
        if let best = statistics.longestDistance {
            #expect(
                expected.sessions.contains { $0.day == best.day.dayNumber && $0.session.sport == best.sport && $0.session.distanceM == best.value },
                context
            )
        }

        // The biggest week: a Monday whose in-range sums are the most distance, then duration, of any week.
        if let biggest = expected.weeks.values.max(by: { ($0.distanceM, $0.durationS) < ($1.distanceM, $1.durationS) }) {
            let week = statistics.biggestWeek.flatMap { LocalDate($0.start) }?.dayNumber
            #expect(week.map { Civil.monday(of: $0) == $0 } == true, context)
            let sums = week.flatMap { expected.weeks[$0] }
            #expect(sums.map { ($0.distanceM, $0.durationS) == (biggest.distanceM, biggest.durationS) } == true, context)
            #expect(sums.map { statistics.biggestWeek.map(\.totals).map($0.matches) == true } == true, context)
        } else {
            #expect(statistics.biggestWeek == nil, context)
        }

        // Streaks.
        #expect(statistics.currentStreakDays == expected.currentStreak, context)
        #expect(statistics.longestStreakDays == expected.longestStreak, context)
    }

    @Test("statistics of day totals equal the session-by-session figures", arguments: seeds)
    func fromDayTotals(seed: UInt64) {
        let scenario = Scenario(seed: seed)
        var random = SeededRandom(seed: seed ^ 0xDA7A)
        // Every day the sessions touch, in range or not, in whatever order a database answers.
        let days = Oracle.dayTotals(scenario.sessions, zone: scenario.zone).values.shuffled(using: &random)
        let statistics = Statistics.compute(
            days: days,
            first: scenario.firstDate,
            last: scenario.lastDate,
            bucket: scenario.bucket,
            today: scenario.todayDate
        )
        Self.check(statistics, scenario, "seed \(seed)")
    }

    @Test("roll-ups of 15-minute slots give every local day exactly its sessions, in any time zone", arguments: seeds)
    func rollupsGiveLocalDays(seed: UInt64) {
        let scenario = Scenario(seed: seed)
        let rows = Oracle.storeRows(scenario.sessions, first: scenario.firstDate, last: scenario.lastDate, zone: scenario.zone)
        let expected = Oracle.dayTotals(scenario.sessions, zone: scenario.zone).filter { (scenario.first...scenario.last).contains($0.key.day) }
        let actual = Oracle.merged(rows)
        let context = Comment(rawValue: "seed \(seed): \(scenario)")
        #expect(actual.keys.sorted() == expected.keys.sorted(), context)
        for (key, day) in expected where actual[key] != day {
            Issue.record("\(Civil.text(of: key.day)) \(key.sport): \(String(describing: actual[key])) instead of \(day) — \(context)")
        }
        // And statistics of those rows (a day may come in two rows, either side of a DST change) are the right ones.
        let statistics = Statistics.compute(
            days: rows,
            first: scenario.firstDate,
            last: scenario.lastDate,
            bucket: scenario.bucket,
            today: scenario.todayDate
        )
        Self.check(statistics, scenario, "seed \(seed), from roll-ups")
    }

    @Test("a session's roll-up is its sums; roll-ups add up to the sums of their sessions (property)")
    func rollupSums() {
        var random = SeededRandom(seed: 7)
        let calendar = Civil.utc
        for round in 0..<200 {
            let base = Civil.utcMs(2026, 3, 1) + Int64(round) * 900_000
            let sessions = (0..<Int.random(in: 1...8, using: &random)).map {
                Generate.session(id: Int64($0), fromMs: base, toMs: base + 900_000, calendar: calendar, using: &random)
            }
            var rollup = Rollup(slot: Rollup.slot(of: base), sport: .run)
            for session in sessions { rollup.add(Rollup(session)) }
            #expect(rollup.slot == Int64(round) + Civil.utcMs(2026, 3, 1) / 900_000)
            #expect(rollup.count == sessions.count)
            #expect(rollup.durationS == sessions.reduce(0) { $0 + $1.durationS })
            #expect(rollup.distanceM == sessions.reduce(0) { $0 + ($1.distanceM ?? 0) })
            #expect(rollup.caloriesKcal == sessions.reduce(0) { $0 + ($1.caloriesKcal ?? 0) })
            #expect(rollup.elevationGainM == sessions.reduce(0) { $0 + ($1.elevationGainM ?? 0) })
            #expect(rollup.heartRateWeighted == Double(sessions.reduce(0) { $0 + ($1.avgHrBpm ?? 0) * $1.durationS }))
            #expect(rollup.heartRateDurationS == sessions.filter { $0.avgHrBpm != nil }.reduce(0) { $0 + $1.durationS })
            #expect(rollup.distanceDurationS == sessions.filter { $0.distanceM != nil }.reduce(0) { $0 + $1.durationS })
            #expect(rollup.maxDurationS == sessions.map(\.durationS).max())
            #expect(rollup.maxDistanceM == sessions.map { $0.distanceM ?? 0 }.max())
        }
    }

    @Test("a slot is the 15 minutes an instant falls in, before 1970 too (property)")
    func slots() {
        #expect(Rollup.slotMs == 15 * 60 * 1000)
        let table: [(Int64, Int64)] = [(0, 0), (899_999, 0), (900_000, 1), (-1, -1), (-900_000, -1), (-900_001, -2)]
        for (ms, slot) in table {
            #expect(Rollup.slot(of: ms) == slot, "\(ms)")
        }
        var random = SeededRandom(seed: 15)
        for _ in 0..<10_000 {
            let ms = Int64.random(in: -4_000_000_000_000...4_000_000_000_000, using: &random)
            let slot = Rollup.slot(of: ms)
            #expect(slot * 900_000 <= ms && ms < (slot + 1) * 900_000, "\(ms)")
        }
    }
}
