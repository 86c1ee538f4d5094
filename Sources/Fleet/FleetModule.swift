import Configuration
import Foundation
import Hummingbird
import TurnoCore

/// Fleet: drone deliveries, dispatch and the live map.
public struct FleetModule: TurnoModule {
    public let name = "fleet"
    public let publishedEventFamilies = ["delivery", "drone"]
    public var migrations: [Migration] { FleetSchema.migrations }
    public let pages: [PageLink] = [PageLink(title: "Fleet dispatch", path: "/fleet")]
    public let staffPages = [StaffPage(path: "/fleet", titles: ["en": "Fleet", "it": "Flotta"])]
    public let routeGroups: [RouteGroup] = [.fleetRead, .fleetDeliveries, .fleetDrones]
    public let scopes: [Scope] = [.fleetWrite]
    /// Every drone and delivery of an organization: its staff only (`delivery:{id}`, whose id is the secret, is open).
    public let topics = [TopicRule.organization("fleet:")]
    let tick: Duration
    let simulate: Bool?
    let simulationSpeed: Double?
    let dispatches: Bool
    let rules: FleetRules

    /// `simulate: false` leaves drones that report no telemetry where they are (by default the simulator flies them);
    /// `simulationSpeed` overrides `--sim-speed`; `dispatches: false` runs no dispatcher on this node (for tests that
    /// drive dispatchers by hand).
    public init(
        tick: Duration = .seconds(1),
        simulate: Bool? = nil,
        simulationSpeed: Double? = nil,
        dispatches: Bool = true,
        rules: FleetRules = .standard
    ) {
        self.tick = tick
        self.simulate = simulate
        self.simulationSpeed = simulationSpeed
        self.dispatches = dispatches
        self.rules = rules
    }

    public func checkSettings(_ config: ConfigReader) throws(SettingsError) {
        _ = try SimulationSettings(config: config)
    }

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {
        let store = FleetStore(storage: platform.storage)
        let simulation = try SimulationSettings(config: platform.settings.config)
        let settings = FleetSettings(
            tick: tick,
            simulatedDrones: simulation.simulatedDrones,
            simulationSpeed: simulationSpeed ?? simulation.simulationSpeed,
            simulates: simulate,
            rules: rules
        )
        let engine = FleetEngine(store: store, storage: platform.storage, settings: settings, logger: platform.logger)
        if dispatches {
            platform.addEventConsumer(engine)
            platform.addBackgroundService(engine)
        }
        platform.addBackgroundService(DronePositions(store: store, hub: platform.hub, logger: platform.logger, clock: platform.clock, interval: .seconds(1)))
        FleetController(store: store, commands: FleetCommands(store: store), rules: rules, clock: platform.clock).add(to: router)
        let renderer = try PageRenderer.load(resources: Bundle.module.url(forResource: "Resources", withExtension: nil), module: "Fleet")
        FleetPages(renderer: renderer, hub: platform.hub, navigation: platform.navigation).add(to: router)
    }
}
