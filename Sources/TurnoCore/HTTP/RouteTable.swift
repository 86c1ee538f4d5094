import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each route path answers, so that a request with another method on a known path gets 405 with `Allow`
/// (RFC 9110, section 15.5.6) instead of the router's 404. Filled once every route is added.
public final class RouteTable: Sendable {
    private struct Route {
        var segments: [Substring]
        var methods: Set<String>
        var fixedSegments: Int { segments.filter { !($0.hasPrefix(":") || $0.hasPrefix("{") || $0.hasPrefix("*")) }.count }
    }

    private let routes = Mutex<[Route]>([])

    public init() {}

    /// Takes the router's routes (`/api/v1/queues/:queue`, `GET`).
    public func load(_ descriptions: [Router<TurnoRequestContext>.RouteDescription]) {
        var byPath: [String: Set<String>] = [:]
        for route in descriptions { byPath[route.path.description, default: []].insert(route.method.rawValue) }
        routes.withLock { routes in
            routes = byPath.map { Route(segments: $0.key.split(separator: "/"), methods: $0.value) }
        }
    }

    /// The methods allowed on `path`, sorted; empty when no route has this path.
    public func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        var allowed: Set<String> = []
        routes.withLock { routes in
            // As the router does, a route with more fixed segments (`/sessions/batch`) wins over one with a parameter there.
            let matching = routes.filter { Self.matches($0.segments, segments) }
            let best = matching.map(\.fixedSegments).max()
            for route in matching where route.fixedSegments == best { allowed.formUnion(route.methods) }
        }
        if allowed.contains("GET") { allowed.insert("HEAD") }
        return allowed.sorted()
    }

    private static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        var index = 0
        for part in pattern {
            if part == "**" { return true }
            guard index < segments.count else { return false }
            if !(part.hasPrefix(":") || part == "*" || part.hasPrefix("{") || part == segments[index]) { return false }
            index += 1
        }
        return index == segments.count
    }
}
