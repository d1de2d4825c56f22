// How a person is named on screen and in the CLI (issue 12): "Name (prefix of the user id)" when the
// workspace holds a display name for them (sealed in the membership log), else the user id alone.
// The id stays in view because a name is chosen by its owner and two members may pick the same one.

/** Looks up a member's display name; undefined when the workspace has none for them. */
export type NameOf = (userId: string) => string | undefined;

const ID_PREFIX = 6;
// Control and format characters (terminal escapes, bidi overrides) are dropped from names.
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/gu;

export function personLabel(userId: string, nameOf?: NameOf): string {
  let name: string | undefined;
  try {
    name = nameOf?.(userId)?.replace(UNPRINTABLE, '').trim();
  } catch {
    name = undefined; // a resolver that fails costs the name, never the view
  }
  return name ? `${name} (${userId.slice(0, ID_PREFIX)})` : userId;
}
