import DequeModule

/// A first-come, first-served lock for async code: the holder may suspend while holding it.
/// SQLite allows one writer at a time, so every write transaction of a node queues here.
actor AsyncLock {
    private var isLocked = false
    private var waiters: Deque<CheckedContinuation<Void, Never>> = []

    func lock() async {
        guard isLocked else {
            isLocked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty {
            isLocked = false
        } else {
            // Ownership passes straight to the next waiter, so nobody can barge in between.
            waiters.removeFirst().resume()
        }
    }
}
