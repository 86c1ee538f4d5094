import Foundation
import Hummingbird
import TurnoCore

/// `/api/v1/branches`, `/api/v1/branches/{branch}/services`, `/api/v1/branches/{branch}/queues`, `/api/v1/services/{service}`,
/// `/api/v1/queues/{queue}`: the branch set-up. Admins create branches; admins and managers edit their services and queues.
struct SetupController: Sendable {
    let store: QueueStore
    let commands: SetupCommands

    struct BranchRequest: Decodable {
        var name: String?
        var timeZone: String?
        var language: String?
        var routingMode: RoutingMode?
        var isOpen: Bool?
        var selfServiceClasses: [CustomerClass]?
    }

    struct ServiceRequest: Decodable {
        var name: String?
        var prefix: String?
        var priorityWeight: Int?
        var targetWaitS: Int?
        var defaultServiceS: Int?
    }

    struct QueueRequest: Decodable {
        var name: String?
        var counter: String?
        var services: [ServiceID]?
        var operators: [StaffID]?
    }

    struct BranchView: Codable, ResponseEncodable {
        var id: BranchID
        var name: String
        var timeZone: String
        var language: String
        var routingMode: RoutingMode
        var isOpen: Bool
        /// The id in the branch's public URLs: `/b/{public_id}/kiosk`, `/b/{public_id}/display`.
        var publicId: String
        var selfServiceClasses: [CustomerClass]
        /// When the kiosk and display pages were first opened (nil: never yet).
        var kioskOpenedAt: Date?
        var displayOpenedAt: Date?
        init(_ branch: Branch) {
            id = branch.id
            name = branch.name
            timeZone = branch.timeZone
            language = branch.language
            routingMode = branch.routingMode
            isOpen = branch.isOpen
            publicId = branch.publicID
            selfServiceClasses = branch.orderedSelfServiceClasses
            kioskOpenedAt = branch.kioskOpenedAtMs.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            displayOpenedAt = branch.displayOpenedAtMs.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
    }

    struct ServiceView: Codable, ResponseEncodable {
        var id: ServiceID
        var branchId: BranchID
        var name: String
        var prefix: String
        var priorityWeight: Int
        var targetWaitS: Int
        var defaultServiceS: Int
        init(_ service: Service) {
            id = service.id
            branchId = service.branchID
            name = service.name
            prefix = service.prefix
            priorityWeight = service.priorityWeight
            targetWaitS = service.targetWaitSeconds
            defaultServiceS = service.defaultServiceSeconds
        }
    }

    struct QueueView: Codable, ResponseEncodable {
        var id: QueueID
        var branchId: BranchID
        var name: String
        var counter: String
        var state: QueueState
        var services: [ServiceID]
        var operators: [StaffID]
        init(_ queue: Queue) {
            id = queue.id
            branchId = queue.branchID
            name = queue.name
            counter = queue.counter
            state = queue.state
            services = queue.serviceIDs.sorted()
            operators = queue.operatorIDs.sorted()
        }
    }

    struct Items<T: Codable & Sendable>: Codable, ResponseEncodable { var items: [T] }

    func add(to router: Router<TurnoRequestContext>) {
        let api = router.group("/api/v1").add(middleware: RequireAccess(.branchSetup))
        api.post("/branches", use: createBranch)
        api.get("/branches", use: listBranches)
        api.get("/branches/:branch", use: showBranch)
        api.patch("/branches/:branch", use: updateBranch)

        api.post("/branches/:branch/services", use: createService)
        api.get("/branches/:branch/services", use: listServices)
        api.get("/services/:service", use: showService)
        api.patch("/services/:service", use: updateService)
        api.delete("/services/:service", use: deleteService)

        api.post("/branches/:branch/queues", use: createQueue)
        api.get("/branches/:branch/queues", use: listQueues)
        api.get("/queues/:queue", use: showQueue)
        api.patch("/queues/:queue", use: updateQueue)
        api.delete("/queues/:queue", use: deleteQueue)
    }

    @Sendable func createBranch(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.role == .admin else { throw Problem(.forbidden, detail: "only administrators create branches") }
        let body = try await request.decode(as: BranchRequest.self, context: context)
        let branch = try Self.validated(
            Branch(
                id: 0,
                organizationID: principal.organizationID,
                name: body.name ?? "",
                timeZone: body.timeZone ?? "UTC",
                language: body.language ?? "en",
                routingMode: body.routingMode ?? .dedicated,
                isOpen: body.isOpen ?? true,
                selfServiceClasses: Set(body.selfServiceClasses ?? [.regular])
            )
        )
        let created = try await commands.createBranch(branch, by: principal, address: context.clientAddress)
        return try Response.json(BranchView(created), status: .created)
    }

    @Sendable func listBranches(_ request: Request, context: TurnoRequestContext) async throws -> Items<BranchView> {
        let principal = try context.requirePrincipal()
        let branches = try await store.branches(organizationID: principal.organizationID).filter { principal.canAccess(branch: $0.id) }
        return Items(items: branches.map(BranchView.init))
    }

    @Sendable func showBranch(_ request: Request, context: TurnoRequestContext) async throws -> BranchView {
        BranchView(try await branch(context))
    }

    @Sendable func updateBranch(_ request: Request, context: TurnoRequestContext) async throws -> BranchView {
        let principal = try context.requirePrincipal()
        var branch = try await branch(context)
        let body = try await request.decode(as: BranchRequest.self, context: context)
        if let name = body.name { branch.name = name }
        if let timeZone = body.timeZone { branch.timeZone = timeZone }
        if let language = body.language { branch.language = language }
        if let mode = body.routingMode { branch.routingMode = mode }
        if let isOpen = body.isOpen { branch.isOpen = isOpen }
        if let classes = body.selfServiceClasses { branch.selfServiceClasses = Set(classes) }
        branch = try Self.validated(branch)
        try await commands.updateBranch(branch, by: principal, address: context.clientAddress)
        return BranchView(branch)
    }

    @Sendable func createService(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let branch = try await branch(context)
        let body = try await request.decode(as: ServiceRequest.self, context: context)
        let service = try Self.validated(
            Service(
                id: 0,
                branchID: branch.id,
                name: body.name ?? "",
                prefix: body.prefix ?? "",
                priorityWeight: body.priorityWeight ?? 0,
                targetWaitSeconds: body.targetWaitS ?? 900,
                defaultServiceSeconds: body.defaultServiceS ?? 300
            )
        )
        let created = try await commands.createService(service)
        return try Response.json(ServiceView(created), status: .created)
    }

    @Sendable func listServices(_ request: Request, context: TurnoRequestContext) async throws -> Items<ServiceView> {
        let branch = try await branch(context)
        return Items(items: try await store.services(of: branch.id).map(ServiceView.init))
    }

    @Sendable func showService(_ request: Request, context: TurnoRequestContext) async throws -> ServiceView {
        ServiceView(try await service(context).service)
    }

    @Sendable func updateService(_ request: Request, context: TurnoRequestContext) async throws -> ServiceView {
        var (service, _) = try await service(context)
        let body = try await request.decode(as: ServiceRequest.self, context: context)
        if let name = body.name { service.name = name }
        if let prefix = body.prefix { service.prefix = prefix }
        if let weight = body.priorityWeight { service.priorityWeight = weight }
        if let target = body.targetWaitS { service.targetWaitSeconds = target }
        if let seconds = body.defaultServiceS { service.defaultServiceSeconds = seconds }
        let updated = try Self.validated(service)
        try await commands.updateService(updated)
        return ServiceView(updated)
    }

    @Sendable func deleteService(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let (service, _) = try await service(context)
        try await commands.deleteService(service)
        return Response(status: .noContent)
    }

    @Sendable func createQueue(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let branch = try await branch(context)
        let body = try await request.decode(as: QueueRequest.self, context: context)
        let services = try await store.services(of: branch.id)
        let queue = try Self.validated(
            Queue(
                id: 0,
                branchID: branch.id,
                name: body.name ?? "",
                counter: body.counter ?? "",
                serviceIDs: Set(body.services ?? []),
                state: .open,
                operatorIDs: Set(body.operators ?? [])
            ),
            services: services
        )
        let created = try await commands.createQueue(queue)
        return try Response.json(QueueView(created), status: .created)
    }

    @Sendable func listQueues(_ request: Request, context: TurnoRequestContext) async throws -> Items<QueueView> {
        let branch = try await branch(context)
        return Items(items: try await store.queues(of: branch.id).map(QueueView.init))
    }

    @Sendable func showQueue(_ request: Request, context: TurnoRequestContext) async throws -> QueueView {
        QueueView(try await queue(context).queue)
    }

    @Sendable func updateQueue(_ request: Request, context: TurnoRequestContext) async throws -> QueueView {
        var (queue, state) = try await queue(context)
        let body = try await request.decode(as: QueueRequest.self, context: context)
        if let name = body.name { queue.name = name }
        if let counter = body.counter { queue.counter = counter }
        if let services = body.services { queue.serviceIDs = Set(services) }
        if let operators = body.operators { queue.operatorIDs = Set(operators) }
        let updated = try Self.validated(queue, services: Array(state.services.values))
        try await commands.updateQueue(updated)
        return QueueView(updated)
    }

    @Sendable func deleteQueue(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let (queue, state) = try await queue(context)
        try await commands.deleteQueue(queue, in: state)
        return Response(status: .noContent)
    }

    private func branch(_ context: TurnoRequestContext) async throws -> Branch {
        try await store.branch(workedAtBy: context)
    }

    private func service(_ context: TurnoRequestContext) async throws -> (service: Service, branch: Branch) {
        guard let id = context.parameters.get("service", as: Int64.self) else { throw Problem.notFound("there is no such service") }
        guard let branchID = try await store.branchID(ofService: id), let branch = try await store.branch(branchID) else {
            throw Problem.notFound("there is no service \(id)")
        }
        try QueueAccess.check(context.requirePrincipal(), branch: branch)
        let services = try await store.services(of: branchID)
        guard let service = services.first(where: { $0.id == id }) else { throw Problem.notFound("there is no service \(id)") }
        return (service, branch)
    }

    private func queue(_ context: TurnoRequestContext) async throws -> (queue: Queue, state: BranchState) {
        guard let id = context.parameters.get("queue", as: Int64.self), let branchID = try await store.branchID(ofQueue: id) else {
            throw Problem.notFound("there is no such queue")
        }
        let state = try await store.state(of: branchID, organizationID: context.requirePrincipal().organizationID)
        try QueueAccess.check(context.requirePrincipal(), branch: state.branch)
        guard let queue = state.queues[id] else { throw Problem.notFound("there is no queue \(id)") }
        return (queue, state)
    }

    static func validated(_ branch: Branch) throws -> Branch {
        var branch = branch
        branch.name = branch.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(branch.name.count) else { throw Problem.unprocessable("`name` must have 1 to 100 characters") }
        guard TimeZone(identifier: branch.timeZone) != nil else {
            throw Problem.unprocessable("`time_zone` must be an IANA time zone such as Europe/Rome, got `\(branch.timeZone)`")
        }
        guard let language = LanguageTag.wellFormed(branch.language) else {
            throw Problem.unprocessable("`language` must be a BCP 47 language tag such as en, it or it-IT, got `\(branch.language)`")
        }
        branch.language = language
        guard branch.selfServiceClasses.contains(.regular) else {
            throw Problem.unprocessable("`self_service_classes` must include regular: customers who choose nothing are regular")
        }
        return branch
    }

    static func validated(_ service: Service) throws -> Service {
        var service = service
        service.name = service.name.trimmingCharacters(in: .whitespaces)
        service.prefix = service.prefix.uppercased()
        guard (1...100).contains(service.name.count) else { throw Problem.unprocessable("`name` must have 1 to 100 characters") }
        guard (1...3).contains(service.prefix.count), service.prefix.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw Problem.unprocessable("`prefix` must be 1 to 3 letters, such as A")
        }
        guard (0...10).contains(service.priorityWeight) else { throw Problem.unprocessable("`priority_weight` must be between 0 and 10") }
        guard (1...86_400).contains(service.targetWaitSeconds), (1...86_400).contains(service.defaultServiceSeconds) else {
            throw Problem.unprocessable("`target_wait_s` and `default_service_s` must be between 1 and 86400 seconds")
        }
        return service
    }

    static func validated(_ queue: Queue, services: [Service]) throws -> Queue {
        var queue = queue
        queue.name = queue.name.trimmingCharacters(in: .whitespaces)
        queue.counter = queue.counter.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(queue.name.count) else { throw Problem.unprocessable("`name` must have 1 to 100 characters") }
        guard (1...20).contains(queue.counter.count) else { throw Problem.unprocessable("`counter` must have 1 to 20 characters, such as 3") }
        let known = Set(services.map(\.id))
        if let unknown = queue.serviceIDs.first(where: { !known.contains($0) }) {
            throw Problem.unprocessable("service \(unknown) is not a service of this branch")
        }
        return queue
    }
}
