/**
 * rewriteHtml's `upstream` on the links of a page that load something, over a real socket on
 * 127.0.0.1, the page in small chunks (tags split between them): besides `href`, `src` and
 * their kin, SVG's `<use>`, `<image>` and `<feImage>` references (`href`, `xlink:href`: an icon
 * sprite) and the `background` image of legacy `<body>` and table cells, which browsers still
 * load, as Apache's mod_proxy_html maps it.
 */
import { describe, expect, it } from 'vitest';
import { mount } from 'tsgi/middleware';
import { rewriteHtml } from 'tsgi/proxy';
import { chunkedPage, servedBody } from './filter-helpers.ts';

const UPSTREAM = 'http://old.example.com';

/** `html` through rewriteHtml({ upstream }) mounted at /legacy, over a socket. */
const mapped = (html: string): Promise<string> =>
  servedBody(mount({ '/legacy': rewriteHtml(chunkedPage(html), { upstream: UPSTREAM }) }), '/legacy/', { Host: 'www.example.com' });

describe('rewriteHtml({ upstream }) maps every link a page loads from', () => {
  it('maps each URL of the ping list of <a> and <area>, which the browser POSTs to when the link is followed', async () => {
    const html = (at: string, a: string, b: string) => `<a href="${at}/x" ping="${a}">x</a><map><area href="${at}/y" ping="${b}"></map>`;
    expect(await mapped(html('', 'http://old.example.com/track  /count', '/t')))
      .toBe(html('/legacy', 'http://www.example.com/legacy/track  /legacy/count', '/legacy/t'));
  });

  it("maps SVG's <use>, <image>, <feImage> and <script> references, href and xlink:href (an icon sprite), leaving a fragment alone", async () => {
    const svg = (a: string, b: string, c: string, d: string) =>
      `<svg><use href="${a}"/><use xlink:href="${b}"></use><image href="${c}" width=9 /><filter><feImage xlink:href="${d}"/></filter><use href="#local"/><script href="${d}"></script></svg>`;
    expect(await mapped(svg('/icons.svg#menu', 'http://old.example.com/icons.svg#x', '/img/a.png', '/img/b.png')))
      .toBe(svg('/legacy/icons.svg#menu', 'http://www.example.com/legacy/icons.svg#x', '/legacy/img/a.png', '/legacy/img/b.png'));
  });

  it('maps the background image of a legacy <body>, <table>, <td> and <th>', async () => {
    const legacy = '<BODY BACKGROUND="/img/bg.gif"><TABLE BACKGROUND="http://old.example.com/t.gif"><TR><TD background=/td.gif>x<TH background=\'/th.gif\'>y</TABLE></BODY>';
    expect(await mapped(legacy)).toBe(
      '<BODY BACKGROUND="/legacy/img/bg.gif"><TABLE BACKGROUND="http://www.example.com/legacy/t.gif"><TR><TD background="/legacy/td.gif">x<TH background="/legacy/th.gif">y</TABLE></BODY>',
    );
  });

  it('maps the cite of <blockquote>, <q>, <del> and <ins>, and the longdesc of <img>, <frame> and <iframe>', async () => {
    const page = (at: string, abs: string) =>
      `<blockquote cite="${at}/src">q</blockquote><q cite="${abs}/q">x</q><del cite="${at}/why">a</del><ins cite="${at}/why#b">b</ins>` +
      `<img src="${at}/a.png" longdesc="${at}/a.html"><iframe src="${at}/f" longdesc="${abs}/f.txt"></iframe>`;
    expect(await mapped(page('', 'http://old.example.com'))).toBe(page('/legacy', 'http://www.example.com/legacy'));
    const frames = (at: string) => `<frameset cols="50%,*"><frame src="${at}/g" longdesc="${at}/g.txt"><frame src=${at}/h></frameset>`;
    expect(await mapped(frames(''))).toBe(frames('/legacy').replace('src=/legacy/h', 'src="/legacy/h"'));
  });

  it("maps <object>'s codebase, and its classid and each URL of archive as read against that codebase, data against the page", async () => {
    // On the upstream's host: the codebase is mapped, a path in classid or archive is the upstream's.
    expect(await mapped('<object codebase="http://old.example.com/applets/" classid="/applets/Main.class" archive="lib/a.jar  /applets/b.jar" data="/movie.swf"></object>')).toBe(
      '<object codebase="http://www.example.com/legacy/applets/" classid="http://www.example.com/legacy/applets/Main.class" archive="lib/a.jar  http://www.example.com/legacy/applets/b.jar" data="/legacy/movie.swf"></object>',
    );
    // On another host: a path there is that host's, left alone; an upstream URL is mapped; data is read against the page.
    expect(await mapped('<object codebase="//cdn.example.net/x/" classid="/Main.class" archive="/a.jar http://old.example.com/b.jar" data="/d.swf"></object>')).toBe(
      '<object codebase="//cdn.example.net/x/" classid="/Main.class" archive="/a.jar http://www.example.com/legacy/b.jar" data="/legacy/d.swf"></object>',
    );
    // A protocol-relative codebase on the upstream's host: a path there is the upstream's.
    expect(await mapped('<object codebase="//old.example.com/applets/" classid="/Main.class"></object>')).toBe(
      '<object codebase="http://www.example.com/legacy/applets/" classid="http://www.example.com/legacy/Main.class"></object>',
    );
    // A codebase that is a path, or none: read against the page; an ActiveX class id is no URL.
    expect(await mapped('<OBJECT CODEBASE=/applets/ CLASSID=/applets/Main.class></OBJECT><object classid="clsid:D27CDB6E-AE6D-11cf-96B8-444553540000" archive=/a.jar></object>')).toBe(
      '<OBJECT CODEBASE="/legacy/applets/" CLASSID="/legacy/applets/Main.class"></OBJECT><object classid="clsid:D27CDB6E-AE6D-11cf-96B8-444553540000" archive="/legacy/a.jar"></object>',
    );
  });
});
