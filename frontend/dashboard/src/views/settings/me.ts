// PATCH /me and keeping useSession().me in step with what the server kept.
import { send } from "@/api/client";
import type { Me, Preferences } from "@/api/types";
import { useSession } from "@/stores/session";

export interface MePatch {
  name?: string;
  display_name?: string | null;
  locale?: string;
  preferences?: Partial<Preferences>;
}

export async function patchMe(body: MePatch): Promise<void> {
  const session = useSession();
  const answer = (await send("PATCH", "/api/v1/me", body)) as Partial<Me> | null;
  if (!session.me) return;
  if (answer && typeof answer === "object" && "email" in answer) {
    session.me = { ...session.me, ...answer } as Me;
    return;
  }
  const { preferences, ...rest } = body;
  session.me = {
    ...session.me,
    ...rest,
    preferences: { ...session.me.preferences, ...(preferences ?? {}) },
  } as Me;
}
