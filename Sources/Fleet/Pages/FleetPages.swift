import Foundation
import HTTPTypes
import Hummingbird
import TurnoCore

/// `/fleet`: the dispatch operators' screen (live map, deliveries, fleet statistics, a form to post a delivery), for
/// signed-in staff; its assets under `/fleet/assets/`. The page reads everything from the API and the `fleet` live
/// topic, so it is rendered without data of its own.
struct FleetPages: Sendable {
    let renderer: PageRenderer
    let hub: LiveHub
    let navigation: StaffNavigation

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/fleet", use: fleetPage)
        renderer.assets.addRoute(to: router, under: "/fleet/assets")
    }

    @Sendable func fleetPage(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        guard let principal = context.pageSession else { return .signIn(returningTo: "/fleet") }
        let language = PageRenderer.language(acceptLanguage: request.headers[.acceptLanguage])
        let data = [
            "me": try JSONText.encode(IdentityRoutes.MeResponse(principal, csrfToken: context.csrfToken)),
            "topic": JSONText.string(FleetTopics.fleet(principal.organizationID)),
        ]
        let html = renderer.render(
            page: "fleet",
            language: language,
            title: renderer.text("fleet_title", language),
            csrf: context.csrfToken,
            liveID: await hub.latestSequence,
            data: data,
            navigation: principal.role.map { navigation.html(role: $0, language: language, current: request.uri.path) }
        )
        return PageRenderer.html(html)
    }
}
