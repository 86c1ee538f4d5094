import Foundation
import TurnoCore

/// Waiting-time estimates: per ticket from the people ahead, and per service from queueing theory.
public enum WaitEstimate {
    /// Exponentially weighted average: the newest sample counts for `weight`, the history for the rest.
    public static func smoothed(previous: Double?, sample: Double, weight: Double) -> Double {
        guard let previous else { return sample }
        return weight * sample + (1 - weight) * previous
    }

    /// Seconds until a ticket with `ahead` people before it is called: the people ahead times the average
    /// service time, shared among the counters working that line (more than one only in pooled mode).
    public static func seconds(ahead: Int, averageServiceSeconds: Double, counters: Int) -> Int {
        Int((Double(ahead) * averageServiceSeconds / Double(max(1, counters))).rounded())
    }

    /// Erlang C for `servers` counters with arrivals at `arrivalsPerSecond` and services lasting
    /// `serviceSeconds` on average: the probability that a new customer waits, and their expected wait in
    /// seconds. Nil when the counters cannot keep up (arrivals ≥ capacity), where the wait grows without bound.
    public static func erlangC(arrivalsPerSecond: Double, serviceSeconds: Double, servers: Int) -> (probabilityOfWaiting: Double, expectedWaitSeconds: Double)?
    {
        guard servers > 0, serviceSeconds > 0 else { return nil }
        if arrivalsPerSecond <= 0 { return (0, 0) }
        let load = arrivalsPerSecond * serviceSeconds  // offered traffic in erlangs
        let c = Double(servers)
        guard load < c else { return nil }
        // Sum of load^k / k! for k < c, computed term by term to stay finite for many servers.
        var term = 1.0
        var sum = 1.0
        for k in 1..<max(1, servers) {
            term *= load / Double(k)
            sum += term
        }
        let last = term * load / c  // load^c / c!
        let top = last * c / (c - load)
        let probability = top / (sum + top)
        return (probability, probability * serviceSeconds / (c - load))
    }
}

/// The local calendar day of an instant in a time zone: what numbering and reports count by.
public enum LocalDay {
    /// `2026-11-21` for `milliseconds` in `timeZone` (an IANA name; unknown names fall back to UTC).
    public static func of(_ milliseconds: Int64, timeZone: String) -> String {
        LocalTime.of(milliseconds, timeZone: timeZone).day
    }
}
