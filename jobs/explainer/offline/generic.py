"""The generic explainer for a topic the offline model does not know, and the scene for a
planned entry beyond a topic's own content."""

from __future__ import annotations

from jobs.explainer.offline.scenes import Code, Content, Scene, add_heading, fit, title_scene
from jobs.explainer.offline.text import display, truncate, wrap


def generic_content(text: str) -> Content:
    """A title / key idea / summary explainer for a topic the offline model does not know."""
    shown = display(text)
    wrapped = wrap(shown)
    title = truncate(shown, 80)
    intro = title_scene("Intro", "The topic", f"Introduce the topic: {title}.", wrapped, None,
                        "a short explainer")
    c = Code()
    add_heading(c, "The key idea")
    c(f"topic = Text({wrap(shown, 40, 2)!r}, font_size=32)")
    c("steps = VGroup(*[Text(s, font_size=28) for s in ['1. State the question precisely', "
      "'2. Work through a small example', '3. Generalise the pattern']])"
      ".arrange(DOWN, aligned_edge=LEFT, buff=0.3)")
    c("body = VGroup(topic, steps).arrange(DOWN, buff=0.6)")
    fit(c, "body", 12.5, 5.4)
    c("body.next_to(heading, DOWN, buff=0.5)")
    c.play("Write(topic)", 1.2)
    c.play("LaggedStart(*[FadeIn(s, shift=RIGHT * 0.3) for s in steps], lag_ratio=0.4)", 1.8)
    c.wait(1.0)
    idea = Scene("KeyIdea", "The key idea", f"The central idea behind {title}.", c)
    d = Code()
    add_heading(d, "Summary")
    d(f"topic = Text({wrap(shown, 40, 2)!r}, font_size=32)")
    d("recap = Text('question, example, general idea', font_size=28, color=GRAY_B)")
    d("body = VGroup(topic, recap).arrange(DOWN, buff=0.5)")
    fit(d, "body", 12.5, 5.4)
    d("box = SurroundingRectangle(body, color=YELLOW, buff=0.3)")
    d.play("FadeIn(body)", 1.2)
    d.play("Create(box)", 1.0)
    d.wait(1.5)
    summary = Scene("Summary", "Summary", f"Recap {title}.", d)
    return Content("generic", title, (intro, idea, summary))


def extra_scene(title: str, goal: str) -> Scene:
    """A scene for a planned entry beyond the topic's own content: its title and goal."""
    c = Code()
    add_heading(c, truncate(display(title, 60), 60))
    c(f"goal = Text({wrap(display(goal or title, 120), 40, 3)!r}, font_size=30)")
    fit(c, "goal", 12.5, 4.5)
    c("goal.next_to(heading, DOWN, buff=0.8)")
    c.play("Write(goal)", 2.0)
    c.wait(1.5)
    return Scene("Recap", title, goal, c)
