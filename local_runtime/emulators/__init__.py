"""The AWS services the functions call, on this machine: DynamoDB Local, the real engine
(``dynamodb_local``), and SES, Secrets Manager and the rest on moto's server (``ses``)."""
