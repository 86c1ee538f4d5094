import ArgumentParser
import Foundation
import TurnoCore
import TurnoServer

/// `turno access-matrix`: prints the access matrix the server enforces (docs/access.md is its output).
struct AccessMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "access-matrix", abstract: "Print who may use each route group, as Markdown.")

    func run() {
        print(AccessPolicy.markdown(turnoRouteGroups), terminator: "")
    }
}

/// `turno organization create NAME --admin USERNAME`: a new tenant with its own administrator.
struct Organization: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "organization",
        abstract: "Manage organizations (tenants).",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organization and its first administrator; prints the administrator's password once."
        )
        @Argument(help: "The organization's name.")
        var name: String
        @Option(help: "Username of its first administrator.")
        var admin: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await reportingFailures {
                let (settings, logger) = try options.prepare()
                let platform = try await Platform.open(settings: settings, modules: turnoModules, logger: logger)
                let password = RandomToken.make(bytes: 12)
                do {
                    let (id, user) = try await platform.identity.createOrganization(name: name, adminUsername: admin, adminPassword: password)
                    print("organization \(id) created; administrator \(user.username), password \(password) (shown only now)")
                } catch let problem as Problem {
                    await platform.close()
                    throw Failure(problem.detail)
                }
                await platform.close()
            }
        }
    }
}
