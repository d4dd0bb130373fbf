"""Scene handling: the static checks of model-written scene code (known-API rewrites, the policy
lint, code problems found before rendering), rendering one scene with manim in the sandbox, and
probing and merging the videos with ffmpeg."""
