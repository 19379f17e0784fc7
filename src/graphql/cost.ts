import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
} from "graphql";

/**
 * An operation's cost: 1 per object (not per scalar) the answer may hold, so it grows with what the database and
 * the loaders must produce. A connection multiplies its selection by `first` (its default when absent); other
 * lists by their documented bound (at most 5 images, 10 suggestions, ...). Introspection is free (GraphiQL and
 * code generators ask for the whole schema once).
 */
const LIST_BOUND: Record<string, number> = {
  "Identification.images": 5,
  "Identification.suggestions": 10,
  "Suggestion.similarImages": 10,
  "HealthAssessment.diseases": 10,
  "MarkNotificationsReadPayload.notifications": 100,
};
const DEFAULT_LIST_BOUND = 10;

function argumentValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  return valueFromASTUntyped(node, variables);
}

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> = {},
): number {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;

  const visit = (
    type: GraphQLCompositeType,
    selectionSet: SelectionSetNode,
    multiplier: number,
    seen: Set<string>,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith("__") || !("getFields" in type)) continue;
        const field = type.getFields()[name];
        if (!field) continue;
        const named = getNamedType(field.type);
        if (!isCompositeType(named) || !selection.selectionSet) continue;
        const first = field.args.find((a) => a.name === "first");
        let size = 1;
        if (first) {
          const given = argumentValue(
            selection.arguments?.find((a) => a.name.value === "first")?.value,
            variables,
          );
          size =
            typeof given === "number"
              ? given
              : typeof first.defaultValue === "number"
                ? first.defaultValue
                : 20;
        } else if (isListType(getNullableType(field.type)) && name !== "edges") {
          size = LIST_BOUND[`${type.name}.${name}`] ?? DEFAULT_LIST_BOUND;
        }
        cost += multiplier * size + visit(named, selection.selectionSet, multiplier * size, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (on && isCompositeType(on)) cost += visit(on, selection.selectionSet, multiplier, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        const on = schema.getType(fragment.typeCondition.name.value);
        if (on && isCompositeType(on))
          cost += visit(on, fragment.selectionSet, multiplier, new Set([...seen, name]));
      }
    }
    return cost;
  };
  return visit(root, operation.selectionSet, 1, new Set());
}
