/// Percentiles the way every Turno figure gives them: the nearest rank, so a p99 is always a value that was measured.
public enum Percentile {
    /// The `p` (0…1) percentile of samples sorted in ascending order; nil when there are none.
    public static func nearestRank(_ p: Double, of sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }
}
