import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

@Suite struct ClientJSONValueTests {
    @Test func mergePatch_containsOnlyChangedMembers_andNullForRemoved() throws {
        let before = try KubeFixtures.json(#"{"metadata":{"name":"a","finalizers":["x"],"labels":{"k":"v","gone":"1"}},"spec":{"n":1}}"#)
        let after = try KubeFixtures.json(#"{"metadata":{"name":"a","labels":{"k":"v2"}},"spec":{"n":1}}"#)
        let patch = try #require(JSONValue.mergePatch(from: before, to: after))
        #expect(patch == (try KubeFixtures.json(#"{"metadata":{"finalizers":null,"labels":{"k":"v2","gone":null}}}"#)))
    }

    @Test func mergePatch_replacesArraysWhole_andIsNilWhenEqual() throws {
        let before = try KubeFixtures.json(#"{"a":[1,2],"b":"x"}"#)
        let after = try KubeFixtures.json(#"{"a":[1,2,3],"b":"x"}"#)
        #expect(JSONValue.mergePatch(from: before, to: after) == (try KubeFixtures.json(#"{"a":[1,2,3]}"#)))
        #expect(JSONValue.mergePatch(from: before, to: before) == nil)
    }

    @Test func jsonValue_roundTripsIntegersExactly() throws {
        let value = try KubeFixtures.json(#"{"big":9007199254740993,"f":1.5,"t":true,"n":null}"#)
        #expect(value["big"] == .int(9_007_199_254_740_993))
        #expect(value["f"] == .double(1.5))
        #expect(value["t"] == .bool(true))
        #expect(value["n"] == .null)
    }
}
