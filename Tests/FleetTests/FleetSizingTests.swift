import Foundation
import Testing
@testable import Fleet

@Suite("Fleet sizing and reconciliation of stuck deliveries")
struct FleetSizingTests {
    let rules = FleetRules.standard

    func drones(idle: [Double], inactive: [Double], charging: Int = 0) -> [Drone] {
        idle.enumerated().map { Fixture.drone("idle-\($0)", at: Point(x: 0, y: 0), battery: $1) }
            + inactive.enumerated().map { Fixture.drone("inactive-\($0)", at: Point(x: 0, y: 0), battery: $1, state: .inactive) }
            + (0..<charging).map { Fixture.drone("charging-\($0)", at: Point(x: 0, y: 0), battery: 50, state: .charging) }
    }

    @Test("a backlog beyond the ready idle drones activates inactive drones, most charged first, up to the shortfall")
    func activation() {
        // Two idle drones are ready; the one at 10 % is about to go charging and does not count.
        let fleet = drones(idle: [80, 60, 10], inactive: [40, 95, .nan, 70, 95], charging: 3)
        #expect(FleetSizing.plan(drones: fleet, backlog: 5, rules: rules) == [.activate("inactive-1"), .activate("inactive-4"), .activate("inactive-3")])
        #expect(FleetSizing.plan(drones: fleet, backlog: 3, rules: rules) == [.activate("inactive-1")])
        // No more inactive drones than there are.
        #expect(FleetSizing.plan(drones: fleet, backlog: 100, rules: rules).count == 4)
        // A backlog the ready drones cover changes nothing.
        #expect(FleetSizing.plan(drones: fleet, backlog: 2, rules: rules).isEmpty)
        #expect(FleetSizing.plan(drones: fleet, backlog: 1, rules: rules).isEmpty)
    }

    @Test("with no backlog, idle drones beyond the spare count retire, least charged first")
    func retirement() {
        var rules = rules
        rules.spareIdleDrones = 2
        let fleet = drones(idle: [80, 30, 90, 30, .nan], inactive: [50])
        #expect(FleetSizing.plan(drones: fleet, backlog: 0, rules: rules) == [.retire("idle-4"), .retire("idle-1"), .retire("idle-3")])
        rules.spareIdleDrones = 5
        #expect(FleetSizing.plan(drones: fleet, backlog: 0, rules: rules).isEmpty)
        // Any backlog keeps every idle drone.
        rules.spareIdleDrones = 0
        #expect(FleetSizing.plan(drones: fleet, backlog: 1, rules: rules).isEmpty)
        #expect(FleetSizing.plan(drones: [], backlog: 0, rules: rules).isEmpty)
    }

    @Test("stuck deliveries: no pick-up in time is requeued, no delivery in time after pick-up fails")
    func reconcile() throws {
        let now = Fixture.start.addingTimeInterval(10_000)
        var fresh = Fixture.delivery(1, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try fresh.assign(to: "d-1", at: now.addingTimeInterval(-1_800))
        var stale = Fixture.delivery(2, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try stale.assign(to: "d-2", at: now.addingTimeInterval(-1_801))
        var inFlight = Fixture.delivery(3, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try inFlight.assign(to: "d-3", at: now.addingTimeInterval(-5_000))
        try inFlight.pickUp(at: now.addingTimeInterval(-100))
        var lost = Fixture.delivery(4, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try lost.assign(to: "d-4", at: now.addingTimeInterval(-5_000))
        try lost.pickUp(at: now.addingTimeInterval(-4_000))
        let waiting = Fixture.delivery(5, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        var done = lost
        try done.deliver(at: now)
        #expect(FleetSizing.reconcile(deliveries: [fresh, stale, inFlight, lost, waiting, done], now: now, rules: rules) == [
            .requeue(stale.id, reason: "no pick-up within 30 minutes"),
            .fail(lost.id, reason: "not delivered within 30 minutes of pick-up"),
        ])
        #expect(FleetSizing.duration(60) == "1 minute")
        #expect(FleetSizing.duration(90) == "90 seconds")
    }
}
