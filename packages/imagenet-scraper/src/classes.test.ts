import { ilsvrc2012Classes, minUrlsPerClass, parseClassInfo, selectClasses } from './classes';

describe('the minimum URLs per random class', () => {
  const info = (counts: [string, number, number][]) =>
    parseClassInfo(
      JSON.stringify(
        Object.fromEntries(
          counts.map(([wnid, all, flickr]) => [
            wnid,
            { img_url_count: all, flickr_img_url_count: flickr, class_name: wnid },
          ]),
        ),
      ),
      'info.json',
    );
  const table = info([
    ['n00000001', 13, 12],
    ['n00000002', 12, 10],
    ['n00000003', 11, 11],
  ]);
  const pick = (selection: Parameters<typeof selectClasses>[1]) =>
    selectClasses(table, selection)
      .map((c) => c.wnid)
      .sort();

  it("is the original project's rule: per-class / 0.9 Flickr URLs, or per-class / 0.8 URLs in all", () => {
    expect(minUrlsPerClass(10)).toBe(13);
    expect(minUrlsPerClass(10, true)).toBe(12);
    expect(minUrlsPerClass(1000)).toBe(1250);
    expect(minUrlsPerClass(1000, true)).toBe(1112);
  });

  it('applies to random classes from a table with URL counts, unless minUrls is given', () => {
    expect(pick({ count: 1, perClass: 10 })).toEqual(['n00000001']);
    expect(pick({ count: 1, perClass: 10, flickrOnly: true })).toEqual(['n00000001']);
    expect(pick({ count: 3, perClass: 10, minUrls: 11 })).toHaveLength(3);
    expect(() => pick({ count: 2, perClass: 10 })).toThrow(
      'classes: asked for 2 classes, only 1 have at least 13 URLs',
    );
    expect(pick({ count: 3 })).toHaveLength(3); // no per-class count, no rule
  });

  it('leaves the shipped ILSVRC-2012 table, which has no URL counts, unfiltered', () => {
    expect(selectClasses(ilsvrc2012Classes(), { count: 5, perClass: 1000, seed: 1 })).toHaveLength(5);
    expect(selectClasses(ilsvrc2012Classes(), { count: 5, perClass: 1000, seed: 1 })).toEqual(
      selectClasses(ilsvrc2012Classes(), { count: 5, seed: 1 }),
    );
  });
});
