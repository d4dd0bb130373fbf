from manim import *
from collections import namedtuple
import heapq

Edge = namedtuple("Edge", ["u", "v", "w"])


EDGES = [Edge("A", "B", 4), Edge("A", "C", 2), Edge("C", "B", 1), Edge("B", "D", 5),
         Edge("C", "D", 8), Edge("C", "E", 10), Edge("D", "E", 2), Edge("D", "F", 6),
         Edge("E", "F", 2)]
LAYOUT = {"A": [-5, 0, 0], "B": [-2, 1.8, 0], "C": [-2, -1.8, 0], "D": [1, 1.8, 0],
          "E": [1, -1.8, 0], "F": [4.5, 0, 0]}


def dijkstra(start, goal):
    adj = {}
    for e in EDGES:
        adj.setdefault(e.u, []).append((e.v, e.w))
        adj.setdefault(e.v, []).append((e.u, e.w))
    queue, prev, dist = [(0, start)], {}, {start: 0}
    while queue:
        d, node = heapq.heappop(queue)
        if node == goal:
            break
        for nxt, w in adj[node]:
            if d + w < dist.get(nxt, float("inf")):
                dist[nxt] = d + w
                prev[nxt] = node
                heapq.heappush(queue, (d + w, nxt))
    path = [goal]
    while path[-1] != start:
        path.append(prev[path[-1]])
    return path[::-1], dist[goal]


def _weight_spot(line):
    """A point beside the middle of an edge, off the line itself."""
    direction = normalize(line.get_end() - line.get_start())
    normal = rotate_vector(direction, PI / 2)
    if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
        normal = -normal
    return line.get_center() + 0.28 * normal


class GraphShortestPath(Scene):
    def construct(self):
        graph = Graph(list(LAYOUT), [(e.u, e.v) for e in EDGES], layout=LAYOUT, labels=True,
                      vertex_config={"radius": 0.3, "fill_color": GREY_D},
                      edge_config={"stroke_color": GREY_B})
        weights = VGroup(*[
            Integer(e.w, font_size=26, color=YELLOW).move_to(_weight_spot(graph.edges[(e.u, e.v)]))
            for e in EDGES
        ])
        self.play(Create(graph), FadeIn(weights), run_time=1.0)

        path, total = dijkstra("A", "F")
        for u, v in zip(path, path[1:]):
            key = (u, v) if (u, v) in graph.edges else (v, u)
            self.play(graph.edges[key].animate.set_stroke(GREEN, width=8),
                      graph[v].animate.set_fill(GREEN, family=False), run_time=0.3)
        result = Text(f"shortest A→F: {total}", font_size=30).to_edge(DOWN)
        self.play(Write(result), run_time=0.5)
        self.wait(0.2)
