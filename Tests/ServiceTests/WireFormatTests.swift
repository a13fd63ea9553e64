import Foundation
import Testing
import Wire
@testable import Service

/// Tensor JSON details, .npy bodies and content negotiation.
@Suite struct WireFormatTests {
    let client = TestClient()

    @Test func nonFiniteValuesTravelAsStrings() {
        let s = client.newSession()
        let created = client.call("POST", "\(s)/arrays", #"{"id":"x","data":["NaN","Infinity","-Infinity",1.5]}"#)
        #expect(created.status == 201, "\(created.text)")
        let data = client.call("GET", "\(s)/arrays/x/data")
        #expect(data.text.contains(#"["NaN","Infinity","-Infinity",1.5]"#), "\(data.text)")
        let values = doubles(data["data"])
        #expect(values[0].isNaN && values[1] == .infinity && values[2] == -.infinity && values[3] == 1.5)
    }

    @Test func float32ValuesUseFloat32Digits() {
        let s = client.newSession()
        client.array(s, "x", #""data":[0.1,0.2,3]"#)
        let data = client.call("GET", "\(s)/arrays/x/data")
        #expect(data.text.contains("[0.1,0.2,3.0]"), "\(data.text)")
        client.array(s, "y", #""data":[0.1],"dtype":"float64""#)
        #expect(client.call("GET", "\(s)/arrays/y/data").text.contains("[0.1]"))
        // An overwrite without "dtype" takes the target's dtype (no detour through float32).
        #expect(client.call("PUT", "\(s)/arrays/y/data", #"{"data":[0.3]}"#).status == 200)
        #expect(client.call("GET", "\(s)/arrays/y/data").text.contains("[0.3]"))
    }

    @Test func integerDTypesRejectFractions() {
        let s = client.newSession()
        #expect(client.call("POST", "\(s)/arrays", #"{"data":[1.5],"dtype":"int32"}"#).code == "invalid-argument")
        #expect(client.call("POST", "\(s)/arrays", #"{"data":[256],"dtype":"uint8"}"#).code == "invalid-argument")
        #expect(client.call("POST", "\(s)/arrays", #"{"data":[255],"dtype":"uint8"}"#).status == 201)
    }

    func npy(_ values: [Float], shape: [Int]) -> [UInt8] {
        values.withUnsafeBytes { NPY.encode(dtype: .float32, shape: shape, data: $0) }
    }

    @Test func npyRoundTrip() {
        let s = client.newSession()
        let body = npy([1, -2.5, 3, .nan, 5, 6], shape: [2, 3])
        let created = client.request("POST", "\(s)/arrays?id=n", body: body, headers: [("Content-Type", "application/x-npy")])
        #expect(created.status == 201, "\(created.text)")
        #expect(created["shape"] == .array([.int(2), .int(3)]))
        let back = client.request("GET", "\(s)/arrays/n/data", headers: [("Accept", "application/x-npy")])
        #expect(back.status == 200)
        #expect(back.contentType == "application/x-npy")
        #expect(back.body == body)
        let decoded = try? NPY.decode(back.body, maxElements: 100)
        #expect(decoded?.shape == [2, 3])

        // octet-stream with the npy magic is npy too; ?dtype= casts.
        let cast = client.request("POST", "\(s)/arrays?id=m&dtype=float64", body: body,
                                  headers: [("Content-Type", "application/octet-stream")])
        #expect(cast["dtype"]?.string == "float64")
        // In-place overwrite with npy.
        let put = client.request("PUT", "\(s)/arrays/n/data", body: npy([0, 0, 0, 0, 0, 1], shape: [2, 3]),
                                 headers: [("Content-Type", "application/x-npy")])
        #expect(put.status == 200, "\(put.text)")
        #expect(client.values(s, "n/data") == [0, 0, 0, 0, 0, 1])
        // Another dtype converts; a flat shape of the same size is accepted.
        let wide = [Double]([1, 2, 3, 4, 5, 6]).withUnsafeBytes { NPY.encode(dtype: .float64, shape: [6], data: $0) }
        let put64 = client.request("PUT", "\(s)/arrays/n/data", body: wide, headers: [("Content-Type", "application/x-npy")])
        #expect(put64.status == 200, "\(put64.text)")
        #expect(client.values(s, "n/data") == [1, 2, 3, 4, 5, 6])
        let short = client.request("PUT", "\(s)/arrays/n/data", body: npy([1, 2], shape: [2]), headers: [("Content-Type", "application/x-npy")])
        #expect(short.code == "data-size-mismatch", "\(short.text)")
        // Inside record, an npy write to an array in the graph is refused as MXNet does, and the
        // array keeps its values.
        _ = client.call("PUT", "\(s)/arrays/n/grad", "{}")
        let scope = client.call("POST", "\(s)/scopes", #"{"kind":"record"}"#)
        _ = client.call("POST", "\(s)/ops/_mul_scalar", #"{"inputs":["n"],"params":{"scalar":2},"ids":["y"]}"#)
        let refused = client.request("PUT", "\(s)/arrays/y/data", body: npy([0, 0, 0, 0, 0, 0], shape: [2, 3]),
                                     headers: [("Content-Type", "application/x-npy")])
        #expect(refused.code == "inplace-in-graph", "\(refused.text)")
        _ = client.call("DELETE", "\(s)/scopes/\(scope["id"]?.string ?? "")")
        #expect(client.values(s, "y/data") == [2, 4, 6, 8, 10, 12])
        // Gradients negotiate the same way.
        _ = client.call("PUT", "\(s)/arrays/n/grad", "{}")
        let grad = client.request("GET", "\(s)/arrays/n/grad", headers: [("Accept", "application/x-npy, application/json;q=0.5")])
        #expect(grad.contentType == "application/x-npy")
    }

    @Test func npyLayoutsWeRefuse() {
        let s = client.newSession()
        // 2-D: for 1-D arrays Fortran and C order are the same layout.
        let fortran = replacing(NPY.header(dtype: .float32, shape: [2, 2]), "'fortran_order': False", "'fortran_order': True ")
            + [UInt8](repeating: 0, count: 16)
        let header = NPY.header(dtype: .float32, shape: [2])
        let response = client.request("POST", "\(s)/arrays", body: fortran, headers: [("Content-Type", "application/x-npy")])
        #expect(response.code == "unsupported-layout", "\(response.text)")
        let object = replacing(header, "'<f4'", "'|O' ") + [UInt8](repeating: 0, count: 8)
        let objectResponse = client.request("POST", "\(s)/arrays", body: object, headers: [("Content-Type", "application/x-npy")])
        #expect(["unsupported-dtype", "unsupported-layout"].contains(objectResponse.code ?? ""), "\(objectResponse.text)")
        #expect(client.request("POST", "\(s)/arrays", body: Array("\u{93}NUMPYgarbage".utf8),
                               headers: [("Content-Type", "application/x-npy")]).code == "invalid-body")
    }

    @Test func acceptNegotiation() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1]"#)
        #expect(client.request("GET", "\(s)/arrays/x/data", headers: [("Accept", "*/*")]).contentType == "application/json")
        #expect(client.request("GET", "\(s)/arrays/x/data", headers: [("Accept", "application/*")]).contentType == "application/json")
        #expect(client.request("GET", "\(s)/arrays/x/data", headers: [("Accept", "application/json;q=0, */*")]).contentType == "application/x-npy")
        #expect(client.request("GET", "\(s)/flags", headers: [("Accept", "application/problem+json")]).status == 200)
        #expect(client.request("GET", "\(s)/flags", headers: [("Accept", "application/json;q=0")]).code == "not-acceptable")
    }
}
