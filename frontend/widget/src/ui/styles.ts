// The widget's whole stylesheet. It lives in the shadow root, so the host page's rules cannot
// reach inside; inherited properties are reset on the host (all: initial) and set again on
// .fd. Logical properties only (inline-start/end), so Persian mirrors without a second sheet.

/** Inline on the host element: !important in a style attribute beats any page rule. */
export const HOST_STYLE = [
  "all:initial",
  "position:fixed",
  "inset:auto 0 0 auto",
  "width:0",
  "height:0",
  "margin:0",
  "padding:0",
  "border:0",
  "z-index:2147483647",
  "display:block",
  "overflow:visible",
  "transform:none",
  "visibility:visible",
  "opacity:1",
  "pointer-events:auto",
]
  .map((rule) => `${rule} !important`)
  .join(";");

export const CSS = `
:host{all:initial}
.fd,.fd *{box-sizing:border-box;margin:0;padding:0;border:0;background:none;font:inherit;color:inherit;
letter-spacing:normal;word-spacing:normal;text-transform:none;text-decoration:none;text-shadow:none;
text-indent:0;float:none;transform:none;min-width:0;max-width:none;width:auto;height:auto;line-height:inherit}
.fd [hidden]{display:none!important}
.fd{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Tahoma,Arial,sans-serif;color:#1f2328;
text-align:start;-webkit-font-smoothing:antialiased;--fd-c:#1f6feb;--fd-t:#fff}
.fd button{cursor:pointer;display:inline-flex;align-items:center;justify-content:center}
.fd svg{width:20px;height:20px;fill:currentColor;display:block}
.launcher{position:fixed;inset-block-end:20px;inset-inline-end:20px;width:56px;height:56px;border-radius:50%;
background:var(--fd-c);color:var(--fd-t);box-shadow:0 4px 14px rgba(0,0,0,.25)}
.launcher svg{width:28px;height:28px}
.badge{position:absolute;inset-block-start:-4px;inset-inline-end:-4px;min-width:20px;height:20px;padding:0 5px;
border-radius:10px;background:#d1242f;color:#fff;font-size:12px;line-height:20px;text-align:center;font-weight:600}
.invite{position:fixed;inset-block-end:86px;inset-inline-end:20px;width:260px;padding:12px 14px;padding-inline-end:34px;
background:#fff;border-radius:12px;box-shadow:0 4px 18px rgba(0,0,0,.18);cursor:pointer;display:block;unicode-bidi:plaintext}
.invite .x{position:absolute;inset-block-start:6px;inset-inline-end:6px;width:24px;height:24px;border-radius:50%;color:#59636e}
.invite .x svg{width:14px;height:14px}
.panel{position:fixed;inset-block-end:88px;inset-inline-end:20px;width:370px;height:min(600px,calc(100vh - 108px));
display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.22)}
@media (max-width:480px){.panel{inset:0;width:auto;height:auto;border-radius:0}}
.head{display:flex;align-items:center;gap:10px;padding:14px 16px;background:var(--fd-c);color:var(--fd-t)}
.head .titles{flex:1}
.head .title{font-weight:600;font-size:15px;display:block;unicode-bidi:plaintext}
.head .state{font-size:12px;opacity:.85;display:block}
.iconbtn{width:34px;height:34px;border-radius:8px;color:inherit}
.iconbtn:hover,.iconbtn:focus-visible{background:rgba(127,127,127,.18);outline:none}
.log{flex:1;overflow-y:auto;padding:14px 12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}
.msg{display:flex;flex-direction:column;max-width:80%;align-self:flex-start}
.msg.visitor{align-self:flex-end;align-items:flex-end}
.who{font-size:12px;color:#59636e;padding-inline:4px;display:block}
.bubble{padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #d1d9e0;white-space:pre-wrap;
overflow-wrap:anywhere;display:block;unicode-bidi:plaintext}
.visitor .bubble{background:var(--fd-c);color:var(--fd-t);border-color:transparent}
.failed .bubble{opacity:.6;cursor:pointer}
.bubble img{display:block;max-width:100%;max-height:220px;border-radius:8px;margin-block:4px}
.bubble a{text-decoration:underline;color:inherit;display:inline}
.meta{font-size:11px;color:#59636e;padding-inline:4px;display:block}
.typing,.notice,.thanks{padding:4px 16px;font-size:12px;color:#59636e;background:#f6f8fa;display:block}
.notice{color:#d1242f;background:#fff0f0;padding-block:8px}
.thanks{color:#1a7f37;background:#eefbf1;padding-block:8px}
.foot{border-block-start:1px solid #d1d9e0;background:#fff;display:block}
.composer{display:flex;align-items:flex-end;gap:4px;padding:8px}
.composer textarea{flex:1;resize:none;min-height:38px;max-height:120px;padding:8px 10px;border:1px solid #d1d9e0;
border-radius:10px;background:#fff;color:#1f2328;display:block}
.fd textarea:focus,.fd input:focus{outline:2px solid var(--fd-c);outline-offset:-1px}
.composer .iconbtn{color:#59636e}
.composer .sendbtn{color:var(--fd-c)}
.emojis{display:grid;grid-template-columns:repeat(8,1fr);gap:2px;padding:6px 8px;max-height:140px;overflow-y:auto}
.emojis button{font-size:20px;height:34px;border-radius:6px}
.emojis button:hover{background:#eaeef2}
.form{display:flex;flex-direction:column;gap:8px;padding:14px 16px}
.form p{color:#1f2328;display:block}
.form label{display:flex;flex-direction:column;gap:3px;font-size:12px;color:#59636e}
.form input,.form textarea{padding:8px 10px;border:1px solid #d1d9e0;border-radius:8px;background:#fff;color:#1f2328;
font-size:14px;display:block;width:100%}
.form textarea{min-height:80px;resize:vertical}
.form .err{color:#d1242f;font-size:12px;display:block}
.primary{padding:9px 14px;border-radius:8px;background:var(--fd-c);color:var(--fd-t);font-weight:600;width:100%}
.primary:disabled{opacity:.6;cursor:default}
.stars{display:flex;gap:4px;justify-content:center}
.stars button{width:36px;height:36px;color:#d1d9e0}
.stars button svg{width:30px;height:30px}
.stars button.on{color:#e3a008}
.blocked{padding:18px 16px;text-align:center;color:#59636e;display:block}
.drop{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;padding:24px;text-align:center;
background:rgba(255,255,255,.92);border:2px dashed var(--fd-c);border-radius:14px;color:#1f2328;font-weight:600}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;
