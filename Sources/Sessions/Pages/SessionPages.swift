import Foundation
import HTTPTypes
import Hummingbird
import TurnoCore

/// `/sessions`: the organization's athletes; `/sessions/users/{user}`: one athlete's statistics, charts and sessions;
/// both for signed-in staff, with their assets under `/sessions/assets/`. The pages read their numbers from the API,
/// so they are rendered without data of their own; the athlete page answers 404 for someone with no sessions.
struct SessionPages: Sendable {
    let renderer: PageRenderer
    let hub: LiveHub
    let navigation: StaffNavigation
    let store: SessionStore

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/sessions", use: athleteListPage)
        router.get("/sessions/users/:user", use: athletePage)
        renderer.assets.addRoute(to: router, under: "/sessions/assets")
    }

    @Sendable func athleteListPage(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        guard let principal = context.pageSession else { return .signIn(returningTo: "/sessions") }
        let language = PageRenderer.language(acceptLanguage: request.headers[.acceptLanguage])
        let data = ["me": try JSONText.encode(IdentityRoutes.MeResponse(principal, csrfToken: context.csrfToken))]
        let html = renderer.render(
            page: "athletes",
            language: language,
            title: renderer.text("sessions_athletes_title", language),
            csrf: context.csrfToken,
            liveID: await hub.latestSequence,
            data: data,
            navigation: principal.role.map { navigation.html(role: $0, language: language, current: request.uri.path) }
        )
        return PageRenderer.html(html)
    }

    @Sendable func athletePage(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let userID = context.parameters.get("user") ?? ""
        guard let principal = context.pageSession else {
            return .signIn(returningTo: "/sessions/users/" + (userID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""))
        }
        let language = PageRenderer.language(acceptLanguage: request.headers[.acceptLanguage])
        guard try await store.isAthlete(userID: userID, organizationID: principal.organizationID) else {
            let detail = renderer.text("sessions_no_athlete", language).replacingOccurrences(of: "{id}", with: userID)
            let html = renderer.renderError(language: language, title: renderer.text("error_not_found_title", language), detail: detail)
            return PageRenderer.html(html, status: .notFound)
        }
        let data = [
            "user_id": JSONText.string(userID),
            "me": try JSONText.encode(IdentityRoutes.MeResponse(principal, csrfToken: context.csrfToken)),
        ]
        let html = renderer.render(
            page: "user",
            language: language,
            title: "\(userID) · \(renderer.text("sessions_title", language))",
            csrf: context.csrfToken,
            liveID: await hub.latestSequence,
            data: data,
            navigation: principal.role.map { navigation.html(role: $0, language: language, current: request.uri.path) }
        )
        return PageRenderer.html(html)
    }
}
