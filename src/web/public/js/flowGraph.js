// A flow as a graph: nodes, and exits found by walking each node for references to other nodes, laid
// out top to bottom by dagre (a maintained Sugiyama-style layout library).
import dagre from '@dagrejs/dagre';

/** Exits of one node: every string field that names another node, with the field path as its label. */
export function exitsOf(node, ids) {
  const out = [];
  const walk = (v, path) => {
    if (typeof v === 'string') {
      if (ids.has(v) && path !== 'type' && path !== '') out.push({ exit: path, next: v });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`);
  };
  walk(node, '');
  return out;
}

/** The node and field a validation issue path names (`nodes.ask.choices[0].next` → ask, choices[0].next). */
export function issueLocation(path) {
  const m = /^nodes\.([^.[]+)(?:[.[](.*))?$/.exec(path ?? '');
  if (!m) return { node: null, field: path };
  const rest = m[2] ?? '';
  return { node: m[1], field: path.slice(`nodes.${m[1]}`.length).replace(/^\./, '') || rest || '(node)' };
}

export function layoutFlow(definition) {
  const nodes = definition?.nodes && typeof definition.nodes === 'object' ? definition.nodes : {};
  const ids = new Set(Object.keys(nodes));
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 50, edgesep: 10, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [id, node] of Object.entries(nodes)) {
    const label = `${id}\n${node?.type ?? '?'}`;
    g.setNode(id, { label, width: Math.max(110, id.length * 8 + 30), height: 44 });
  }
  const edges = [];
  for (const [id, node] of Object.entries(nodes)) {
    for (const e of exitsOf(node, ids)) {
      const name = `${id}:${e.exit}`;
      g.setEdge(id, e.next, { label: e.exit, width: e.exit.length * 6, height: 14 }, name);
      edges.push({ from: id, to: e.next, exit: e.exit, name });
    }
  }
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: graph.width ?? 0,
    height: graph.height ?? 0,
    nodes: g.nodes().map((id) => ({ id, type: nodes[id]?.type, ...g.node(id) })),
    edges: edges.map((e) => ({ ...e, ...g.edge(e.from, e.to, e.name) })),
    start: definition?.start,
  };
}
