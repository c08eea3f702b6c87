"""The assistant's models: training from the desk in the worker, evaluation on the development
set, the gate that refuses a worse model, promotion and the live file the assistants pull."""
