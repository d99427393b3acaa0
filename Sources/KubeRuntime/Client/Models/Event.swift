// core/v1 Event (k8s.io/api core/v1/types.go). Events about cluster-scoped objects (PVs)
// go to namespace `default` (client-go tools/record/event.go:490-512).

/// A core/v1 Event. Namespaced; `/api/v1/namespaces/{ns}/events`.
public struct Event: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(
        group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)

    public var metadata: ObjectMeta
    package var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var source: EventSource?
    package var reportingComponent: String?
    package var reportingInstance: String?
    public var action: String?
    package var firstTimestamp: KubeTime?
    package var lastTimestamp: KubeTime?
    public var count: Int32?
    package var eventTime: MicroTime?

    public init(
        metadata: ObjectMeta, involvedObject: ObjectReference, reason: String? = nil,
        message: String? = nil, type: String? = nil, source: EventSource? = nil,
        reportingComponent: String? = nil, reportingInstance: String? = nil, action: String? = nil,
        firstTimestamp: KubeTime? = nil, lastTimestamp: KubeTime? = nil, count: Int32? = nil,
        eventTime: MicroTime? = nil
    ) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.source = source
        self.reportingComponent = reportingComponent
        self.reportingInstance = reportingInstance
        self.action = action
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.count = count
        self.eventTime = eventTime
    }
}

/// core/v1 EventSource.
public struct EventSource: Sendable, Hashable, Codable {
    package var component: String?
    public var host: String?

    public init(component: String? = nil, host: String? = nil) {
        self.component = component
        self.host = host
    }
}
