// A tiny PKI for HTTPS tests: a CA, a server certificate valid for 127.0.0.1 and
// kubernetes.default, and a client certificate, all P-256 and valid for 100 years.
// Generated once with the openssl CLI for these fixtures; not secrets.
package enum KubeTestPKI {
    /// The CA (CN=kube-test-ca) that signed the server and client certificates.
    package static let caCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBhTCCASugAwIBAgIUF3e2JVEbhSOwV+7CYXos2zL1nVcwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMa3ViZS10ZXN0LWNhMCAXDTI2MTEyNzE4NDgyNVoYDzIxMjYx
        MTAzMTg0ODI1WjAXMRUwEwYDVQQDDAxrdWJlLXRlc3QtY2EwWTATBgcqhkjOPQIB
        BggqhkjOPQMBBwNCAAR5KtCupDmXoIGtADEQ/R590E4iLUdhjL3Pdp5squmVQmiB
        Vth5mA6xYsYfpdvTGhd0kBXDEHrjNE5J6uX0DUB4o1MwUTAdBgNVHQ4EFgQUGkRX
        8oaL6uePeHQQ3ixW7cur+dQwHwYDVR0jBBgwFoAUGkRX8oaL6uePeHQQ3ixW7cur
        +dQwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBAyeAYnnJZKMo+
        ouBg6Zp8ugpm37E3jWqueQNNawfFFAIhAJRXjrQjJK8xqSan+fVH/dvWf7PWd1G0
        RICZKC4g5Dkc
        -----END CERTIFICATE-----
        """

    /// Server certificate for IP 127.0.0.1, DNS kubernetes.default and localhost.
    package static let serverCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBvjCCAWOgAwIBAgIUdn36xQdSQ9a63an9e54q/iPnYCEwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMa3ViZS10ZXN0LWNhMCAXDTI2MTEyNzE4NDgyNVoYDzIxMjYx
        MTAzMTg0ODI1WjAZMRcwFQYDVQQDDA5rdWJlLWFwaXNlcnZlcjBZMBMGByqGSM49
        AgEGCCqGSM49AwEHA0IABHYO5NnLElP/OVgeYqY7eoQ8y5v0hic0WlifOuHeCfGz
        nAXqXUeWmbFf6TROThZ0opQXwkq80yK2wV63FgdZGGCjgYgwgYUwLgYDVR0RBCcw
        JYcEfwAAAYISa3ViZXJuZXRlcy5kZWZhdWx0gglsb2NhbGhvc3QwEwYDVR0lBAww
        CgYIKwYBBQUHAwEwHQYDVR0OBBYEFKoZ7z+WGN5i5jl53TeaLAnySmsgMB8GA1Ud
        IwQYMBaAFBpEV/KGi+rnj3h0EN4sVu3Lq/nUMAoGCCqGSM49BAMCA0kAMEYCIQCH
        tdQ2F0WMjBVzFF1wqXh0AdTrXVDHaqGIVn48czOJ+wIhALXcu9zYRH1zZFuASgZo
        5dbQyZ2njcRutkZRteECLm7m
        -----END CERTIFICATE-----
        """

    /// The server certificate's key.
    package static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+Menlq+QvUE/GML4
        02VUzbZFpEEoCm5jRJ+/RkOeuh2hRANCAAR2DuTZyxJT/zlYHmKmO3qEPMub9IYn
        NFpYnzrh3gnxs5wF6l1HlpmxX+k0Tk4WdKKUF8JKvNMitsFetxYHWRhg
        -----END PRIVATE KEY-----
        """

    /// Client certificate (CN=provisioner, clientAuth).
    package static let clientCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBhzCCAS6gAwIBAgIUdn36xQdSQ9a63an9e54q/iPnYCIwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMa3ViZS10ZXN0LWNhMCAXDTI2MTEyNzE4NDgyNVoYDzIxMjYx
        MTAzMTg0ODI1WjAWMRQwEgYDVQQDDAtwcm92aXNpb25lcjBZMBMGByqGSM49AgEG
        CCqGSM49AwEHA0IABDxMfdcbzlML7cjJa1vsHGqozyD//RuIMGWp8Jpapk6Suu8n
        MygXtzb3QdflCeU5BqnGZ+rdO+iyZB83ray0V0WjVzBVMBMGA1UdJQQMMAoGCCsG
        AQUFBwMCMB0GA1UdDgQWBBSY8K2NoIXMENkTcVI3IgwP5T5/STAfBgNVHSMEGDAW
        gBQaRFfyhovq5494dBDeLFbty6v51DAKBggqhkjOPQQDAgNHADBEAiAC3DVBct6+
        fR0SMIiRuGt6GKPvIGN0jeeJOEdzUv1lewIgKt9sqsrrZTFcEOUfu1GNW9iVONMu
        RrgQ/33UbNrv0e8=
        -----END CERTIFICATE-----
        """

    /// The client certificate's key.
    package static let clientKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSRJlSlwEibFzal+n
        3hLV4AirLfuNfiBuej1C9g5of4GhRANCAAQ8TH3XG85TC+3IyWtb7BxqqM8g//0b
        iDBlqfCaWqZOkrrvJzMoF7c290HX5QnlOQapxmfq3TvosmQfN62stFdF
        -----END PRIVATE KEY-----
        """
}
