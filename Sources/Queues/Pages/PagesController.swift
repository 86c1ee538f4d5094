import Foundation
import HTTPTypes
import Hummingbird
import TurnoCore

/// The queue pages: `/b/{branch}/kiosk`, `/t/{token}`, `/b/{branch}/display`, `/console`, `/admin`, `/reports`,
/// `/complaints`, their assets under `/assets/`, the ticket page's service worker (`/sw.js`) and manifest, and the QR
/// code of a ticket (`/qr/{token}.svg`).
/// Pages are rendered with the state they show, so they are useful before their scripts connect.
struct PagesController: Sendable {
    let renderer: PageRenderer
    let store: QueueStore
    let tickets: PublicTicketsController
    let hub: LiveHub
    let navigation: StaffNavigation

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/b/:branch/kiosk", use: kiosk)
        router.get("/b/:branch/display", use: display)
        router.get("/t/:ticket", use: ticketPage)
        router.get("/console", use: console)
        router.get("/admin", use: admin)
        router.get("/reports", use: reports)
        router.get("/complaints", use: complaints)
        router.get("/schedule", use: schedule)
        renderer.assets.addRoute(to: router, under: "/assets")
        router.get("/sw.js", use: serviceWorker)
        router.get("/favicon.ico", use: favicon)
        router.get("/manifest.webmanifest", use: manifest)
        router.get("/qr/:file", use: qrCode)
    }

    @Sendable func kiosk(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let print = request.uri.queryParameters["print"] == "auto" ? "auto" : "button"
        return try await branchPage("kiosk", request: request, context: context, data: ["print": JSONText.string(print)])
    }

    @Sendable func display(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await branchPage("display", request: request, context: context)
    }

    /// The customer's ticket: its status now, in the branch's language.
    @Sendable func ticketPage(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let liveID = await hub.latestSequence
        guard let token = context.parameters.get("ticket"), token.count <= 64, let ticket = try await store.ticket(token: token) else {
            return errorPage(.notFound, language: PageRenderer.defaultLanguage, title: "error_not_found_title", detail: "error_no_ticket")
        }
        let state = try await store.state(of: ticket.branchID, organizationID: nil)
        // Finished tickets are no longer in the branch's state; their status is what the ticket row says.
        let status = TicketStatus(state.tickets[ticket.id] ?? ticket, in: state)
        let language = PageRenderer.language(state.branch.language)
        let data = [
            "token": JSONText.string(ticket.token),
            "status": try JSONText.encode(status),
            "near_ahead": String(state.policy.nearAlertAhead),
        ]
        let title = "\(ticket.number) · \(renderer.text("ticket_title", language))"
        // Every response says Referrer-Policy: no-referrer, so the link (the customer's key) never leaks to other sites.
        return PageRenderer.html(renderer.render(page: "ticket", language: language, title: title, csrf: nil, liveID: liveID, data: data))
    }

    @Sendable func console(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await staffPage("console", request: request, context: context)
    }

    /// With the standard alert texts (`language → kind → text`), which the branch alert settings show as placeholders.
    @Sendable func admin(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let data = ["alert_texts": try JSONText.encode(AlertTexts.builtIn.standard)]
        return try await staffPage("admin", request: request, context: context, allowed: [.admin, .manager], data: data)
    }

    /// Reports and staff performance over past days, with their charts and downloads.
    @Sendable func reports(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await staffPage("reports", request: request, context: context, allowed: [.admin, .manager])
    }

    /// Opening hours and the shifts of a branch's week, against the counters its forecast needs.
    @Sendable func schedule(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await staffPage("schedule", request: request, context: context, allowed: [.admin, .manager])
    }

    /// The customers' complaints about finished tickets, and the answers to them.
    @Sendable func complaints(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await staffPage("complaints", request: request, context: context, allowed: [.admin, .manager])
    }

    /// Served from the root so that it may control the ticket pages under /t/.
    @Sendable func serviceWorker(_ request: Request, context: TurnoRequestContext) -> Response {
        var response = renderer.assets.response("sw.js", request: request)!
        response.headers[HTTPField.Name("Service-Worker-Allowed")!] = "/t/"
        return response
    }

    /// Browsers ask for it on pages without an icon link (the sign-in page); the SVG icon serves.
    @Sendable func favicon(_ request: Request, context: TurnoRequestContext) -> Response {
        renderer.assets.response("icon.svg", request: request)!
    }

    @Sendable func manifest(_ request: Request, context: TurnoRequestContext) -> Response {
        renderer.assets.response("manifest.webmanifest", request: request)!
    }

    @Sendable func qrCode(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        guard let file = context.parameters.get("file"), file.hasSuffix(".svg"),
            let ticket = try await store.ticket(token: String(file.dropLast(".svg".count)))
        else { throw Problem.notFound("there is no ticket with this link") }
        let svg = try QRCode(encoding: request.publicOrigin + "/t/\(ticket.token)").svg()
        return Response(
            status: .ok,
            headers: [.contentType: "image/svg+xml", .cacheControl: "private, max-age=86400"],
            body: .init(byteBuffer: ByteBuffer(string: svg))
        )
    }

    /// Kiosk and display: the branch's snapshot, in the branch's language, with the page's own `data`.
    private func branchPage(_ page: String, request: Request, context: TurnoRequestContext, data: [String: String] = [:]) async throws -> Response {
        let liveID = await hub.latestSequence
        guard let publicID = context.parameters.get("branch"), publicID.count <= 64, let branch = try await store.branch(publicID: publicID),
            let state = try? await store.state(of: branch.id, organizationID: nil)
        else {
            let language = PageRenderer.language(acceptLanguage: request.headers[.acceptLanguage])
            return errorPage(.notFound, language: language, title: "error_not_found_title", detail: "error_no_branch")
        }
        let snapshot = try await tickets.snapshot(of: state, liveID: liveID)
        if let opened = BranchPage(rawValue: page), (opened == .kiosk ? branch.kioskOpenedAtMs : branch.displayOpenedAtMs) == nil {
            try await store.notePageOpened(opened, branchID: branch.id)
        }
        let language = PageRenderer.language(state.branch.language)
        var data = data
        data["branch"] = try JSONText.encode(snapshot)
        let title = "\(renderer.text("\(page)_title", language)) · \(state.branch.name)"
        return PageRenderer.html(renderer.render(page: page, language: language, title: title, csrf: context.csrfToken, liveID: liveID, data: data))
    }

    /// Console, admin, reports and complaints: signed-in staff only (others go to the sign-in page and come back).
    private func staffPage(
        _ page: String,
        request: Request,
        context: TurnoRequestContext,
        allowed: Set<Role> = Set(Role.allCases),
        data: [String: String] = [:]
    ) async throws -> Response {
        let language = PageRenderer.language(acceptLanguage: request.headers[.acceptLanguage])
        guard let principal = context.pageSession else { return .signIn(returningTo: "/\(page)") }
        guard let role = principal.role, allowed.contains(role) else {
            return errorPage(.forbidden, language: language, title: "error_forbidden_title", detail: "error_forbidden_admin")
        }
        let me = try JSONText.encode(IdentityRoutes.MeResponse(principal, csrfToken: context.csrfToken))
        let liveID = await hub.latestSequence
        var data = data
        data["me"] = me
        let html = renderer.render(
            page: page,
            language: language,
            title: renderer.text("\(page)_title", language),
            csrf: context.csrfToken,
            liveID: liveID,
            data: data,
            navigation: navigation.html(role: role, language: language, current: "/\(page)")
        )
        return PageRenderer.html(html)
    }

    private func errorPage(_ status: HTTPResponse.Status, language: String, title: String, detail: String) -> Response {
        PageRenderer.html(
            renderer.renderError(language: language, title: renderer.text(title, language), detail: renderer.text(detail, language)),
            status: status
        )
    }
}
