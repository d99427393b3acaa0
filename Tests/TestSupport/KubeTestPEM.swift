// A self-signed P-256 certificate and its key (CN=test-ca, valid for 100 years), for tests
// that parse PEM data. Not a secret: generated for this test fixture only.
public enum KubeTestPEM {
    public static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBejCCASGgAwIBAgIUNJPA7w4UDQ5nsOdP6gkjBkhlfb0wCgYIKoZIzj0EAwIw
        EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjExMjcxODM0NTBaGA8yMTI2MTEwMzE4
        MzQ1MFowEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
        A0IABByLrHOOqvWFqPoQJVMa0newQdaWZWOmFC89IdNdWgrgvEZcbJpaMQmjbp9B
        yu/tGoB6ERvcHMEuI9syhX2L39ejUzBRMB0GA1UdDgQWBBR8xHOfrvO5q+MTinIu
        vpH8bhUM6TAfBgNVHSMEGDAWgBR8xHOfrvO5q+MTinIuvpH8bhUM6TAPBgNVHRMB
        Af8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIAi4D9btOQ1KthGZD2rf1zDRdwwh
        Nhk2IlBZH2njT8ifAiB2DMqpF/WKC8qdzw4A4G74tkukqDalJgAG5mr2b8Eajw==
        -----END CERTIFICATE-----
        """

    public static let privateKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXHfcL9HcmOwifyyk
        Ua32NB2WhGBVz9D6uQrk3ak1sIWhRANCAAQci6xzjqr1haj6ECVTGtJ3sEHWlmVj
        phQvPSHTXVoK4LxGXGyaWjEJo26fQcrv7RqAehEb3BzBLiPbMoV9i9/X
        -----END PRIVATE KEY-----
        """
}
