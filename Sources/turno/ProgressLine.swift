import Foundation
import Synchronization

/// How far a long command has got, on standard error: a bar redrawn in place when standard error is a terminal,
/// otherwise (a log file, CI) one line per 10 % so that the log stays short. Safe to update from many tasks.
final class ProgressLine: Sendable {
    private struct State {
        var done = 0
        var detail = ""
        /// The last tenth (log) or thousandth (terminal) shown, so that it is drawn only when it changes.
        var shown = -1
        var barVisible = false
    }

    private let label: String
    private let total: Int
    private let terminal = isatty(2) == 1
    private let state = Mutex(State())

    /// `total` is in whatever unit `update` counts: bytes, sessions.
    init(label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    /// `done` of `total`; `detail` follows the percentage, such as "12,000 records". Concurrent workers may report
    /// out of order: a report behind one already shown is dropped, so that the figure never goes back.
    func update(_ done: Int, detail: String) {
        state.withLock { state in
            guard done >= state.done else { return }
            state.done = min(done, total)
            state.detail = detail
            let step = terminal ? state.done * 1_000 / total : state.done * 10 / total
            // In a log, "0 %" says nothing; on a terminal the bar appears at once.
            guard step > state.shown, terminal || step > 0 else { return }
            state.shown = step
            if terminal {
                draw(&state)
            } else {
                write("\(label): \(step * 10) % (\(detail))\n")
            }
        }
    }

    /// A line of its own, above the bar on a terminal.
    func note(_ message: String) {
        state.withLock { state in
            if state.barVisible {
                write("\r\u{1B}[K\(message)\n")
                draw(&state)
            } else {
                write(message + "\n")
            }
        }
    }

    /// Leaves the finished bar on its own line, so that what follows starts on a fresh one.
    func finish() {
        state.withLock { state in
            guard state.barVisible else { return }
            draw(&state)
            write("\n")
            state.barVisible = false
        }
    }

    private func draw(_ state: inout State) {
        let width = 30
        let filled = state.done * width / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        write(String(format: "\r\u{1B}[K%@ [%@] %5.1f %% %@", label, bar, Double(state.done) * 100 / Double(total), state.detail))
        state.barVisible = true
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
