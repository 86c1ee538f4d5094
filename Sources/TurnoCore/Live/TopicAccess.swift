/// Who may follow which live topics. Topics a public screen or a customer needs (`branch:<public id>`, and
/// `ticket:<token>` and `delivery:<id>`, whose token or id is the secret) are open; staff topics are not.
public enum TopicAccess {
    public static func allows(_ topic: String, _ principal: Principal?) -> Bool {
        if topic.hasPrefix("organization:") {
            // Staff account changes: only the organization's administrators.
            return principal?.role == .admin && topic == "organization:\(principal!.organizationID)"
        }
        if topic.hasPrefix("fleet:") {
            // Every drone and delivery of an organization: its staff only.
            return principal?.role != nil && topic == "fleet:\(principal!.organizationID)"
        }
        if topic.hasPrefix("queue:") {
            // A counter's line: staff only (the public follow `branch:{public id}`, whose id cannot be guessed).
            return principal?.role != nil
        }
        return true
    }
}
