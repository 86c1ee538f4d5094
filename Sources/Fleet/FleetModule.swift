import Foundation
import Hummingbird
import TurnoCore

/// Fleet: drone deliveries, dispatch and the live map.
public struct FleetModule: TurnoModule {
    public let name = "fleet"
    public var migrations: [Migration] { FleetSchema.migrations }
    public let pages: [PageLink] = [PageLink(title: "Fleet dispatch", path: "/fleet")]
    let tick: Duration
    let simulate: Bool?
    let simulationSpeed: Double?
    let rules: FleetRules

    /// `simulate` moves drones that report no telemetry even when the server simulates no drones of its own (by
    /// default only `--simulate-drones` turns the simulator on); `simulationSpeed` overrides `--sim-speed`.
    public init(tick: Duration = .seconds(1), simulate: Bool? = nil, simulationSpeed: Double? = nil, rules: FleetRules = .standard) {
        self.tick = tick
        self.simulate = simulate
        self.simulationSpeed = simulationSpeed
        self.rules = rules
    }

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {
        let store = FleetStore(storage: platform.storage)
        let settings = FleetSettings(
            tick: tick, simulatedDrones: platform.settings.simulatedDrones, simulationSpeed: simulationSpeed ?? platform.settings.simulationSpeed,
            simulates: simulate, rules: rules
        )
        let engine = FleetEngine(store: store, storage: platform.storage, settings: settings, logger: platform.logger)
        platform.addEventConsumer(engine)
        platform.addBackgroundService(engine)
        platform.addBackgroundService(DronePositions(store: store, hub: platform.hub, logger: platform.logger, interval: .seconds(1)))
        FleetController(store: store, rules: rules).add(to: router)
        let renderer = try PageRenderer.load(resources: Bundle.module.url(forResource: "Resources", withExtension: nil), module: "Fleet")
        FleetPages(renderer: renderer, hub: platform.hub).add(to: router)
    }
}
