import { createPinia } from "pinia";
import { createApp } from "vue";
import App from "./App.vue";
import { applyLanguage, i18n, preferredLanguage } from "./i18n";
import { router } from "./router";
import { applyTheme } from "./stores/session";
import "./styles/base.css";

applyLanguage(preferredLanguage());
applyTheme("system");
createApp(App).use(createPinia()).use(i18n).use(router).mount("#app");
