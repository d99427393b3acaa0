// The REST verbs on collections and items (AS endpoints/handlers: get.go, create.go,
// update.go, patch.go, delete.go, watch.go).

extension APIHandler {
    func collection(_ type: ResourceType, namespace: String?, _ request: HTTPRequest, format: ResponseFormat, legacyWatch: Bool,
                    pageLimit: Int?, watchFault: WatchFault?) async throws(APIStatus) -> Reply
    {
        switch request.method {
        case "GET":
            var options = try ListOptions.parse(request.query, resource: type)
            if legacyWatch { options.watch = true }
            if options.watch {
                var plan = try watchPlan(type, namespace: namespace, options: options, fault: watchFault)
                plan.format = format
                return .watch(plan)
            }
            let list = try await registry.list(type, namespace: namespace, options: options, pageLimit: pageLimit)
            guard case .table(let version, let include) = format else { return .json(200, list) }
            let table = TableConvertor.table(type, objects: list["items"]?.arrayValue ?? [], metadata: list["metadata"] ?? .emptyObject,
                                             version: version, include: include, now: registry.clock())
            return .json(200, table, contentType: format.contentType)
        case "POST":
            guard namespace != nil || !type.info.namespaced else { throw APIStatus.methodNotAllowed() }
            try requireJSONContent(request)
            let options = try WriteOptions.parse(request.query, optionsKind: "CreateOptions")
            let body = try parseBody(request.body)
            return .written(201, try registry.create(type, namespace: namespace, body: body, options: options))
        case "DELETE":
            guard namespace != nil || !type.info.namespaced else { throw APIStatus.methodNotAllowed() }
            let deleteOptions = try DeleteOptions.parse(body: request.body, query: request.query)
            let listOptions = try ListOptions.parse(request.query, resource: type)
            let list = try await registry.list(type, namespace: namespace, options: listOptions)
            var deleted: [JSONValue] = []
            for item in list["items"]?.arrayValue ?? [] {
                guard let name = item.string(at: "metadata", "name") else { continue }
                do {
                    let result = try registry.delete(type, namespace: item.string(at: "metadata", "namespace"),
                                                     name: name, options: deleteOptions)
                    if case .object(let object, _) = result { deleted.append(object) } else { deleted.append(item) }
                } catch where error.code == 404 {
                    continue  // deleted meanwhile
                }
            }
            var response = list
            response["items"] = .array(deleted)
            return .json(200, response)
        default:
            throw APIStatus.methodNotAllowed()
        }
    }

    func item(_ type: ResourceType, namespace: String?, name: String, subresource: Subresource?, _ request: HTTPRequest,
              format: ResponseFormat, legacyWatch: Bool, watchFault: WatchFault?) async throws(APIStatus) -> Reply
    {
        switch request.method {
        case "GET":
            if legacyWatch {
                var options = try ListOptions.parse(request.query, resource: type)
                options.watch = true
                options.fieldSelector.requirements.append(.init(field: "metadata.name", value: name, equal: true))
                var plan = try watchPlan(type, namespace: namespace, options: options, fault: watchFault)
                plan.format = format
                return .watch(plan)
            }
            let version = request.query["resourceVersion"]?.first.flatMap { $0.isEmpty ? nil : $0 }
            let object = try await registry.get(type, namespace: namespace, name: name, resourceVersion: version)
            guard case .table(let tableVersion, let include) = format else { return .json(200, object) }
            let metadata: JSONValue = ["resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? ""]
            let table = TableConvertor.table(type, objects: [object], metadata: metadata, version: tableVersion,
                                             include: include, now: registry.clock())
            return .json(200, table, contentType: format.contentType)
        case "PUT":
            try requireJSONContent(request)
            let options = try WriteOptions.parse(request.query, optionsKind: "UpdateOptions")
            let body = try parseBody(request.body)
            return .written(200, try registry.update(type, namespace: namespace, name: name, subresource: subresource,
                                                     body: body, options: options))
        case "PATCH":
            let contentType = (request.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters() } ?? ""
            guard let patchType = PatchType(rawValue: contentType), PatchType.served.contains(patchType) else {
                throw APIStatus.unsupportedMediaType(PatchType.served.map(\.rawValue))
            }
            let options = try WriteOptions.parse(request.query, optionsKind: "PatchOptions")
            let patch: JSONValue
            do {
                patch = try JSONValue.parse(request.body)
            } catch {
                throw APIStatus.badRequest("error decoding patch: \(error.reason)")
            }
            return .written(200, try registry.patch(type, namespace: namespace, name: name, subresource: subresource,
                                                    type: patchType, patch: patch, options: options))
        case "DELETE":
            guard subresource == nil else { throw APIStatus.methodNotAllowed() }
            let options = try DeleteOptions.parse(body: request.body, query: request.query)
            let result = try registry.delete(type, namespace: namespace, name: name, options: options)
            if case .object(_, let removed) = result, options.orphanDependents == false, !removed {
                return .json(202, result.body)  // AS handlers/delete.go: deprecated orphanDependents=false
            }
            return .json(200, result.body)
        default:
            throw APIStatus.methodNotAllowed()
        }
    }

    /// POST/PUT bodies must be JSON (an absent Content-Type counts as JSON, like the server's
    /// default serializer); YAML and protobuf are not served (see README).
    func requireJSONContent(_ request: HTTPRequest) throws(APIStatus) {
        guard let contentType = request.headers["content-type"] else { return }
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters() } ?? ""
        if type != "application/json" && !type.isEmpty {
            throw APIStatus.unsupportedMediaType(["application/json"])
        }
    }

    func parseBody(_ bytes: [UInt8]) throws(APIStatus) -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw APIStatus.badRequest("couldn't get version/kind; json parse error: \(error.reason)")
        }
    }

    /// Validates watch options and decides where the stream starts.
    func watchPlan(_ type: ResourceType, namespace: String?, options: ListOptions, fault: WatchFault?) throws(APIStatus) -> WatchPlan {
        try options.validate()
        let start: ObjectStore.WatchStart
        if options.sendInitialEvents == true {
            start = .watchList
        } else if let version = options.resourceVersion, version != "0" {
            start = .after(try parseResourceVersion(version))
        } else if options.sendInitialEvents == false {
            start = .now
        } else {
            start = .currentState
        }
        let timeout: Duration
        if let seconds = options.timeoutSeconds, seconds > 0 {
            // Capped at ten years so the sleep's nanosecond count cannot overflow.
            timeout = .seconds(min(seconds, 315_360_000))
        } else {
            timeout = jitter(configuration.defaultWatchTimeout)
        }
        let filter = ObjectFilter(resource: type, namespace: type.info.namespaced ? namespace : nil,
                                  labels: options.labelSelector, fields: options.fieldSelector)
        return WatchPlan(filter: filter, start: start, timeout: timeout, bookmarks: options.allowWatchBookmarks, fault: fault)
    }
}
