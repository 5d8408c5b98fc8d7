"""The scrub corpus: secrets in the forms they take in real log lines, error
messages and requests, and ordinary text that must come through unchanged.

In SECRETS, «...» marks what must not survive scrubbing (the markers are
removed before the text is scrubbed)."""

SECRETS = [
    # AWS key pairs: key=value, environment, JSON, Python repr, SQL
    "aws_access_key_id=«AKIAIOSFODNN7EXAMPLE» aws_secret_access_key=«wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY»",
    "AWS_ACCESS_KEY_ID=«AKIAI44QH8DHBEXAMPLE»\nAWS_SECRET_ACCESS_KEY=«je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY»",
    '{"access_key_id": "«AKIAZ7Q3EXAMPLEKEY12»", "secret_access_key": "«Zq8w2LkP0vN3xR7tYb1Hc5Jm9Df4Gs6Ae0Ui2Ko8»"}',
    "profile values {'new_access_key_id': '«ASIAY34FZKBOKMUTVV7A»', 'new_secret_access_key': '«Hz/4o7n8KmPq3Rs+Tu1VwXy2Za5Bc6De9Fg0Hi3J»'}",
    '{"AccessKeyId": "«ASIAQWERTYUIOPASDFGH»", "SecretAccessKey": "«aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b»"}',
    "botocore: credentials «AKIAJQ2EXAMPLE7KEY3Z» / «b5Nk2Lp9Qr4St7Uv0Wx3Yz6Ab9Cd2Ef5Gh8Ij1Kl»",
    # Odoo's "bad query" line: the statement with its values inlined
    'bad query: UPDATE "selfhost_backup_profile" SET "secret_access_key"=\'«wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY»\', '
    '"access_key_id"=\'«AKIAIOSFODNN7EXAMPLE»\' WHERE id = 3\nERROR: deadlock detected',
    'bad query:  UPDATE "selfhost_backup_profile"\n                    SET "access_key_id" = "__tmp"."access_key_id"::VARCHAR, '
    '"secret_access_key" = "__tmp"."secret_access_key"::VARCHAR\n'
    '                    FROM (VALUES (3, \'«AKIAIOSFODNN7EXAMPLE»\', \'«my-own-s3-secret»\')) AS "__tmp"("id", '
    '"access_key_id", "secret_access_key")\n                    WHERE "selfhost_backup_profile"."id" = "__tmp"."id"\n'
    'ERROR: could not serialize access due to concurrent update',
    'bad query: INSERT INTO "selfhost_backup_profile" ("name", "access_key_id", "secret_access_key", "passphrase") '
    'VALUES (\'«nightly»\', \'«AKIAIOSFODNN7EXAMPLE»\', \'«minio-secret-42»\', \'«correct horse battery staple»\') '
    'RETURNING "id"\nERROR: new row for relation "selfhost_backup_profile" violates check constraint "x"\n'
    'DETAIL: Failing row contains (7, «nightly», «AKIAIOSFODNN7EXAMPLE», «minio-secret-42», «correct horse battery staple»).',
    'bad query: UPDATE "res_users" SET "password" = \'«Winter2024!»\' WHERE id = 2\n'
    'ERROR: duplicate key value violates unique constraint "x"\nDETAIL: Key (password)=(«Winter2024!») already exists.',
    # PEM private keys: multi-line, with \n escapes, quoted in SQL and JSON, truncated
    "-----BEGIN RSA PRIVATE KEY-----\n«MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun»\n"
    "«VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK»\n-----END RSA PRIVATE KEY-----",
    "key loaded: -----BEGIN EC PRIVATE KEY-----\\n«MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49»\\n"
    "«AwEHoUQDQgAEPR3tU2Fta9ktY+6P9G0cWO+0kETA6SFs38GecTyfS2c»\\n-----END EC PRIVATE KEY-----\\n",
    '{"private_pem": "-----BEGIN PRIVATE KEY-----\\n«MC4CAQAwBQYDK2VwBCIEIKbnZ0dQ4gH0Yx9aL2mPq7sT3vW5yZ8bC1dE4fG6hJ8k»\\n-----END PRIVATE KEY-----\\n"}',
    "-----BEGIN OPENSSH PRIVATE KEY-----\n«b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW»\n"
    "«QyNTUxOQAAACBQVXJ0aGluZ0dvZXNIZXJlQnV0SXRJc0FGYWtlS2V5Rm9yVGVzdHM»\n-----END OPENSSH PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n«MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI3+FrUBMHiJ8CAggA»\n"
    "«MAwGCCqGSIb3DQIJBQAwFAYIKoZIhvcNAwcECBqd8hZrQ2vPBIIEyBqdpkS7oFbC»\n-----END ENCRYPTED PRIVATE KEY-----",
    'bad query: UPDATE "audit_checkpoint_key" SET "private_key" = \'-----BEGIN PRIVATE KEY-----\n'
    '«MC4CAQAwBQYDK2VwBCIEIHx8bQ2vPBIIEyBqdpkS7oFbCMAwGCCqGSIb3DQIJBQAw»\n-----END PRIVATE KEY-----\n\' WHERE id = 1',
    "signing key -----BEGIN PRIVATE KEY-----\n«MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj»\n«MzEfYyjiWA4R4",
    # auth headers
    "Authorization: Bearer «8f1c2e9a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e»",
    "requests headers {'Authorization': 'Bearer «eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl»', 'Accept': '*/*'}",
    "authorization: bearer «odoo-api-key-0123456789abcdef»",
    "Authorization: Basic «dXNlcjpwYXNzd29yZA==»",
    "proxy sent Proxy-Authorization: Basic «YWRtaW46aHVudGVyMg==»",
    "curl -H 'Authorization: Token «tok_live_51HxYz2eZvKYlo2C»' https://api.example.test/",
    "GET /audit/events.jsonl 401: bearer «f3a9c1d7e5b2a8c4d6e0f1a2b3c4d5e6f7a8b9c0» rejected",
    # JWTs
    "id_token=«eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz»",
    "SAML relay state carried «eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1aWQiOjJ9.dGhpcyBpcyBhIHNpZ25hdHVyZQ» in the query",
    # session ids and cookies
    "session_id=«f2c9a8b7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1»",
    "Cookie: «session_id=x8Kp2Lm9Nq4Rs7Tv0Wy3Zb6Cd9Ef2Gh5Jk8Mn1Pq4»; frontend_lang=en_US",
    "Cookie: frontend_lang=en_US; session_id=«Qm9vbGVhbi1zZXNzaW9uLWlkLTEyMzQ1Njc4OTA»",
    "Set-Cookie: session_id=«aZ09bY18cX27dW36eV45fU54gT63hS72iR81jQ90»; Path=/; HttpOnly",
    "werkzeug: session «Xy7Kq2Vb9Nm4Lp1Rt6Ws3Zd8Hf5Jg0Ac2Eb7Ui9Oq» expired",
    "sid: «8sKq2Vb9Nm4Lp1Rt6Ws3Zd8Hf5Jg0Ac»",
    # passwords in URLs and JSON
    "could not connect: postgresql://odoo:«s3cr3t-pg-pass»@db.internal:5432/prod",
    "fetching https://backup:«Tr0ub4dor&3»@s3.example.test/bucket/key",
    'params {"login": "admin", "password": "«hunter2 with spaces»", "db": "prod"}',
    "{'password': '«p@ssw0rd!»', 'login': 'demo'}",
    "rpc call execute_kw args=('prod', 2, 'x') password=«Sup3rS3cret»",
    '{\\"new_password\\": \\"«escaped-secret-9»\\"}',
    "smtp login failed: smtp_pass=«mailpass123», smtp_user=robot",
    # the suite's and Odoo's token URLs
    "GET /security/advisories/ack/12/«q8ZkP3mN7vR2tY6wB1cX9dF4gH0jL5sA» HTTP/1.1",
    "https://erp.example.test/security/advisories/ack/7/«Ab_cD-efGhIjkLmNoPqRsTuVwXyZ0123»?x=1",
    "GET /my/security/reports/5?access_token=«8d3c2b1a-4f5e-6a7b-8c9d-0e1f2a3b4c5d» 200",
    "redirect to /web/signup?token=«Kq2Vb9Nm4Lp1Rt6Ws3Zd»&db=prod",
    "/web/reset_password?db=prod&token=«Zq9Xw8Cv7Bn6Mm5Ll4Kk3Jj2»",
    # API keys and other tokens
    "X-Api-Key: «sk_live_4eC39HqLyjWDarjtT1zdp7dc»",
    "api_key=«9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08»",
    "totp_secret='«JBSWY3DPEHPK3PXP»'",
    "client_secret: «GOCSPX-1a2B3c4D5e6F7g8H9i0J»",
    "loaded credentials=«AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY»",
    # text typed into the login field (often a password), in core's and the throttle's lines
    "Login failed for db:prod login:«Summer2024!» from 203.0.113.9",
    "password check for '«Summer 2024 secret»' refused: throttled for 30 s",
]

CLEAN = [
    "Password policy: at least 12 characters, checked against known breaches.",
    "password policy updated by the Owner",
    "token bucket refilled: 5 tokens per minute",
    "Session expired, please log in again.",
    "the session id cookie is set HttpOnly and SameSite=Lax",
    "Basic authentication is not offered; Bearer tokens are for the SIEM endpoint only.",
    "secret rotation scheduled for 2026-03-01",
    "private key generated for checkpoint signing",
    "access key rotation reminder sent",
    "The API key was revoked by its owner.",
    "2026-11-21 10:00:00,123 4242 INFO prod odoo.modules.loading: 142 modules loaded in 3.21s, 0 queries",
    "2026-11-21 09:43:51,002 4242 WARNING prod odoo.http: 404 Not Found /web/image/res.partner/7/avatar_128",
    "GET /security/advisories/ADV-2026-0004 HTTP/1.1 200 - 12 0.004 0.021",
    "GET /my/security/advisories/12/ack HTTP/1.1 303",
    "GET /audit/events.jsonl?after=120345&limit=1000 HTTP/1.1 200",
    "https://www.odoo.com/documentation/18.0/administration/install.html",
    "release odoo-18.0 built from commit 3f2a9c1e5b7d8a0c4e6f1b2d3a5c7e9f0b1d2c3a",
    "sha256 0f343b0931126a20f133d67c2b018a3b5c9f1e6d8a7b4c2e0f9d8c7b6a5e4d3c of backup 2026-11-21",
    "order SO/2026/00042 confirmed, total 1,234.56 EUR, invoice INV/2026/00017",
    "retrying in 30 s (attempt 3 of 5)",
    "res.users(2,) write: groups_id changed",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "KeyError: 'partner_id'",
    'Traceback (most recent call last):\n  File "/opt/odoo/odoo/http.py", line 2375, in __call__\n'
    "    response = request._serve_db()",
    "cron 'Audit: daily verification' done in 0.52 s",
    "checkpoint 42 signed (sequence 120000)",
    "Login: role.editor, role: Editor",
    "Token expired at 12:30:45; request a new one from the advisory page.",
    "passwords are hashed with pbkdf2-sha512 (600000 rounds)",
    "secrets manager unreachable: ConnectionError",
    "credential type: password",
    "MFA via TOTP required for Admins",
    "UUID 123e4567-e89b-12d3-a456-426614174000 assigned",
    "selfhost_backup: upload of prod_2026-11-21_0300.dump.enc finished (3 parts, 1.2 GiB)",
    "ir.attachment: _file_gc removed 17 files",
    "TestAlertsRepeatedFailedLogins passed",
]
