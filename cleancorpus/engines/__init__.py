"""Execution engines other than the local process pool (``--engine``).

An engine is ``run(inputs, source, stages, cfg, env, **options) -> Iterator[Document]``: it
yields exactly what :func:`cleancorpus.pipeline.run` yields for the same arguments, in input
order; the CLI writes outputs and the manifest from that stream on the driver.
"""
