package dev.meshwork.cli.inspect;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Orders "10.2.1.0/24", "10.100.3.165:80/TCP" and the like by their IPv4 address numerically (so
 * 10.2.x comes before 10.10.x), then by the rest of the text; anything else sorts after, by text.
 */
final class AddressOrder {

  private static final Pattern IPV4 = Pattern.compile("^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})(.*)$");

  static final Comparator<String> NUMERIC = AddressOrder::compare;

  private AddressOrder() {}

  private static int compare(String a, String b) {
    Matcher ma = IPV4.matcher(a);
    Matcher mb = IPV4.matcher(b);
    boolean ipa = ma.matches();
    boolean ipb = mb.matches();
    if (ipa && ipb) {
      for (int group = 1; group <= 4; group++) {
        int byGroup = Integer.compare(Integer.parseInt(ma.group(group)), Integer.parseInt(mb.group(group)));
        if (byGroup != 0) {
          return byGroup;
        }
      }
      return compareRest(ma.group(5), mb.group(5));
    }
    if (ipa != ipb) {
      return ipa ? -1 : 1;
    }
    return a.compareTo(b);
  }

  // ":80/TCP" vs ":443/TCP", "/24" vs "/16": numbers numerically, the rest as text.
  private static int compareRest(String a, String b) {
    Matcher na = Pattern.compile("^[:/](\\d+)(.*)$").matcher(a);
    Matcher nb = Pattern.compile("^[:/](\\d+)(.*)$").matcher(b);
    if (na.matches() && nb.matches()) {
      int byNumber = Long.compare(Long.parseLong(na.group(1)), Long.parseLong(nb.group(1)));
      return byNumber != 0 ? byNumber : na.group(2).compareTo(nb.group(2));
    }
    return a.compareTo(b);
  }
}
