import Configuration
import TurnoCore

/// The fleet's simulator settings, read from the server's configuration: `--simulate-drones` / `TURNO_SIMULATE_DRONES`
/// (drones the server flies itself, 0: none) and `--sim-speed` / `TURNO_SIM_SPEED` (simulated seconds per real second).
struct SimulationSettings: Sendable {
    var simulatedDrones: Int
    var simulationSpeed: Double

    init(config: ConfigReader) throws(SettingsError) {
        let turno = config.scoped(to: "turno")
        simulatedDrones = turno.int(forKey: "simulateDrones", default: 0)
        guard (0...100_000).contains(simulatedDrones) else { throw SettingsError("simulated drones must be between 0 and 100,000, got \(simulatedDrones)") }
        simulationSpeed = turno.double(forKey: "simSpeed", default: 1)
        guard simulationSpeed.isFinite, (0.1...1_000).contains(simulationSpeed) else {
            throw SettingsError("the simulation speed must be between 0.1 and 1,000 times real time, got \(simulationSpeed)")
        }
    }
}
