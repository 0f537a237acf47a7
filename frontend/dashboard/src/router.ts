import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { useSession } from "@/stores/session";

export const VIEWS = ["inbox", "mine", "unassigned", "archive"] as const;
export type ListView = (typeof VIEWS)[number];

const routes: RouteRecordRaw[] = [
  { path: "/login", name: "login", component: () => import("@/views/auth/LoginView.vue"), meta: { public: true } },
  { path: "/forgot-password", name: "forgot", component: () => import("@/views/auth/ForgotPasswordView.vue"), meta: { public: true } },
  { path: "/reset-password", name: "reset", component: () => import("@/views/auth/ResetPasswordView.vue"), meta: { public: true } },
  { path: "/accept-invitation", name: "accept", component: () => import("@/views/auth/AcceptInvitationView.vue"), meta: { public: true } },
  {
    path: "/",
    component: () => import("@/layouts/AppShell.vue"),
    children: [
      { path: "", redirect: "/inbox" },
      {
        path: ":view(inbox|mine|unassigned|archive)/:id(\\d+)?",
        name: "conversations",
        component: () => import("@/views/InboxView.vue"),
        props: (route) => ({ view: route.params.view, id: route.params.id ? Number(route.params.id) : null }),
      },
      { path: "visitors", name: "visitors", component: () => import("@/views/VisitorsView.vue") },
      { path: "settings/:section?", name: "settings", component: () => import("@/views/settings/SettingsView.vue") },
      {
        path: "admin/inboxes/:inboxId(\\d+)/email-template",
        name: "email-template",
        component: () => import("@/views/admin/emailTemplate/EmailTemplateEditor.vue"),
        props: (route) => ({ inboxId: Number(route.params.inboxId) }),
        meta: { admin: true },
      },
      { path: "admin/:section?", name: "admin", component: () => import("@/views/admin/AdminView.vue"), meta: { admin: true } },
    ],
  },
  { path: "/:pathMatch(.*)*", redirect: "/inbox" },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.loaded) await session.load();
  if (to.meta.public) return true;
  if (!session.me) return { name: "login", query: to.fullPath !== "/" ? { next: to.fullPath } : {} };
  if (to.meta.admin && !session.isAdmin) return "/inbox";
  return true;
});
