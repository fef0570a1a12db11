"""The template's functions, each warm instance a Python process of its own, as in Lambda.

``runtime.FunctionRuntime`` keeps the pools and is what the gateway and the event sources
invoke; ``worker`` is the program each instance runs.
"""
